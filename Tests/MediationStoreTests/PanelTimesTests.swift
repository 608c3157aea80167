import Foundation
import GRDB
import Testing

@testable import MediationStore

/// Panel rows carry their session's times (v8), so an expert's bookings around a moment are one index range.
/// The copies must never drift from the session: a booking check that read a stale copy could double-book.
struct PanelTimesTests {
    private func times(_ db: Database, session: Int64) throws -> [[Double]] {
        try Row.fetchAll(
            db, sql: "SELECT starts_at, ends_at FROM session_panel WHERE session_id = ? ORDER BY expert_id",
            arguments: [session]
        ).map { [$0[0], $0[1]] }
    }

    private func insertSession(_ db: Database, id: Int64, start: Double, end: Double) throws {
        try db.execute(
            sql: """
                INSERT INTO session (id, dispute_id, office_id, starts_at, ends_at, status, sequence, created_at,
                  updated_at) VALUES (?, 1, 'o', ?, ?, 'booked', 0, 0, 0)
                """, arguments: [id, start, end])
    }

    private func insertPanelRow(_ db: Database, session: Int64, expert: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO session_panel (session_id, expert_id, requirement_index, requirement, invitation, lead)
                VALUES (?, ?, 0, 'lawyer', 'pending', 0)
                """, arguments: [session, expert])
    }

    @Test func existingPanelsAreFilledInByTheMigration() throws {
        let queue = try DatabaseQueue()
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA foreign_keys = OFF") }
        try Migrations.migrator.migrate(queue, upTo: "v7-operations")
        try queue.write { db in
            try insertSession(db, id: 1, start: 1000, end: 2000)
            try insertPanelRow(db, session: 1, expert: 7)
            try insertPanelRow(db, session: 1, expert: 8)
        }
        try Migrations.migrator.migrate(queue)
        let filled = try queue.read { db in try times(db, session: 1) }
        #expect(filled == [[1000, 2000], [1000, 2000]])
    }

    @Test func aRowWithoutTimesTakesItsSessionsAndAMoveMovesThemAll() throws {
        let queue = try DatabaseQueue()
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA foreign_keys = OFF") }
        try Migrations.migrator.migrate(queue)
        try queue.write { db in
            try insertSession(db, id: 1, start: 1000, end: 2000)
            try insertSession(db, id: 2, start: 1000, end: 2000)
            try insertPanelRow(db, session: 1, expert: 7)
            try insertPanelRow(db, session: 1, expert: 8)
            try insertPanelRow(db, session: 2, expert: 9)
            #expect(try times(db, session: 1) == [[1000, 2000], [1000, 2000]])

            try db.execute(sql: "UPDATE session SET starts_at = 5000, ends_at = 7000 WHERE id = 1")
            #expect(try times(db, session: 1) == [[5000, 7000], [5000, 7000]])
            // Another session's rows stay where they were.
            #expect(try times(db, session: 2) == [[1000, 2000]])
            // A change of status alone leaves the times alone.
            try db.execute(sql: "UPDATE session SET status = 'cancelled' WHERE id = 1")
            #expect(try times(db, session: 1) == [[5000, 7000], [5000, 7000]])
        }
    }
}
