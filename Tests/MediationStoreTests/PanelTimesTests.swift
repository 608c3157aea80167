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

/// Panel rows carry their session's status too (v10), so a booking's checks never read the session table. A stale
/// status would hide a live booking from the clash check, or keep a cancelled one blocking.
struct PanelStatusTests {
    private func statuses(_ db: Database, session: Int64) throws -> [String?] {
        try String?.fetchAll(
            db, sql: "SELECT status FROM session_panel WHERE session_id = ? ORDER BY expert_id", arguments: [session])
    }

    private func insertSession(_ db: Database, id: Int64, status: String) throws {
        try db.execute(
            sql: """
                INSERT INTO session (id, dispute_id, office_id, starts_at, ends_at, status, sequence, created_at,
                  updated_at) VALUES (?, 1, 'o', 1000, 2000, ?, 0, 0, 0)
                """, arguments: [id, status])
    }

    private func insertPanelRow(_ db: Database, session: Int64, expert: Int64, status: String?) throws {
        try db.execute(
            sql: """
                INSERT INTO session_panel (session_id, expert_id, requirement_index, requirement, invitation, lead,
                  starts_at, ends_at, status) VALUES (?, ?, 0, 'lawyer', 'pending', 0, 1000, 2000, ?)
                """, arguments: [session, expert, status])
    }

    @Test func existingPanelsTakeTheirSessionsStatusInTheMigration() throws {
        let queue = try DatabaseQueue()
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA foreign_keys = OFF") }
        try Migrations.migrator.migrate(queue, upTo: "v9-outbox-token")
        try queue.write { db in
            try insertSession(db, id: 1, status: "cancelled")
            try insertSession(db, id: 2, status: "booked")
            for (session, expert) in [(1, 7), (1, 8), (2, 9)] {
                try db.execute(
                    sql: """
                        INSERT INTO session_panel (session_id, expert_id, requirement_index, requirement, invitation,
                          lead, starts_at, ends_at) VALUES (?, ?, 0, 'lawyer', 'pending', 0, 1000, 2000)
                        """, arguments: [session, expert])
            }
        }
        try Migrations.migrator.migrate(queue)
        try queue.read { (db: Database) throws -> Void in
            #expect(try statuses(db, session: 1) == ["cancelled", "cancelled"])
            #expect(try statuses(db, session: 2) == ["booked"])
        }
    }

    @Test func aRowTakesItsSessionsStatusAndAChangeReachesThePanel() throws {
        let queue = try DatabaseQueue()
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA foreign_keys = OFF") }
        try Migrations.migrator.migrate(queue)
        try queue.write { db in
            try insertSession(db, id: 1, status: "booked")
            try insertSession(db, id: 2, status: "booked")
            try insertPanelRow(db, session: 1, expert: 7, status: nil)
            try insertPanelRow(db, session: 1, expert: 8, status: "cancelled")  // wrong: the session is booked
            try insertPanelRow(db, session: 2, expert: 9, status: "booked")
            #expect(try statuses(db, session: 1) == ["booked", "booked"])

            try db.execute(sql: "UPDATE session SET status = 'cancelled' WHERE id = 1")
            #expect(try statuses(db, session: 1) == ["cancelled", "cancelled"])
            #expect(try statuses(db, session: 2) == ["booked"])
            try db.execute(sql: "UPDATE session SET status = 'in_session', starts_at = 1100 WHERE id = 2")
            #expect(try statuses(db, session: 2) == ["in_session"])
        }
    }

    /// Both of a booking's reads about an expert's other sessions are index ranges that never open the session
    /// table: the point of the copy.
    @Test func theBookingChecksReadOnlyTheIndex() throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue)
        let plans = try queue.read { db in
            try [
                """
                SELECT p.expert_id, p.starts_at, p.ends_at FROM json_each('[1,2]') j
                CROSS JOIN session_panel p INDEXED BY session_panel_on_expert_schedule
                  ON p.expert_id = j.value AND p.starts_at < 5 AND p.ends_at > 1 AND p.starts_at > 0
                WHERE p.status IN ('booked', 'in_session', 'ended') AND p.session_id IS NOT 3
                """,
                """
                SELECT p.session_id AS id, e.id AS expert_id, e.name FROM json_each('[1,2]') j
                CROSS JOIN session_panel p INDEXED BY session_panel_on_expert_schedule
                  ON p.expert_id = j.value AND p.starts_at < 5 AND p.ends_at > 1 AND p.starts_at > 0
                JOIN expert e ON e.id = p.expert_id
                WHERE p.status IN ('booked', 'in_session') AND p.session_id IS NOT NULL
                ORDER BY j.key LIMIT 1
                """,
            ].map { sql in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
            }
        }
        for plan in plans {
            #expect(plan.contains { $0.contains("USING COVERING INDEX session_panel_on_expert_schedule") }, "\(plan)")
            #expect(!plan.contains { $0.contains("session ") || $0.hasSuffix("session") }, "\(plan)")
        }
    }
}

/// Retention finds closed disputes (v11) and the warnings find no-shows (v12) through partial indexes that a
/// booking never touches; the slot finder's sessions in a horizon come from the index on start times.
struct PartialIndexTests {
    private func plan(_ sql: String) throws -> [String] {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue)
        return try queue.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
        }
    }

    @Test func noShowsAndHorizonsHaveTheirIndexes() throws {
        let noShows = try plan(
            """
            SELECT d.id, d.number, d.office_id, COUNT(*) AS n FROM session s JOIN dispute d ON d.id = s.dispute_id
            WHERE s.status = 'no_show' GROUP BY d.id HAVING COUNT(*) >= 2
            """)
        #expect(noShows.contains { $0.contains("USING INDEX session_no_show_on_dispute") }, "\(noShows)")
        let horizon = try plan(
            """
            SELECT p.expert_id, s.starts_at, s.ends_at FROM session s JOIN session_panel p ON p.session_id = s.id
            WHERE s.starts_at < 9 AND s.ends_at > 1 AND s.starts_at > 0
            AND s.status IN ('booked', 'in_session', 'ended') AND s.id IS NOT NULL
            """)
        #expect(
            horizon.contains { $0.contains("s USING INDEX session_on_start (starts_at>? AND starts_at<?)") },
            "\(horizon)")
    }

    @Test func retentionsLookupUsesThePartialIndex() throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue)
        let plan = try queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    EXPLAIN QUERY PLAN SELECT COUNT(*) FROM party WHERE dispute_id IN
                      (SELECT id FROM dispute INDEXED BY dispute_on_closed_at WHERE status = 'closed' AND closed_at < 100)
                    """
            ).map { $0["detail"] as String }
        }
        #expect(
            plan.contains { $0.contains("dispute USING INDEX dispute_on_closed_at (closed_at<?)") }, "\(plan)")
        let sql = try queue.read { db in
            try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'dispute_on_closed_at'")
        }
        #expect(sql?.contains("WHERE status = 'closed'") == true)
    }
}
