import Foundation
import GRDB
import Testing

@testable import MediationStore

/// v9 rebuilds the outbox without the UNIQUE index on its tokens. A rebuild is where data gets lost: the old table
/// is dropped, and its attempts cascade from it. Everything must come through, with foreign keys on.
struct OutboxTokenMigrationTests {
    @Test func messagesAndTheirAttemptsComeThroughAndOnlyTheTokenIndexGoes() throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue, upTo: "v8-panel-times")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO office (id, name, time_zone, working_hours, default_session_minutes, created_at,
                      updated_at) VALUES ('o', 'Office', 'UTC', '', 90, 0, 0);
                    INSERT INTO dispute (id, number, office_id, year, sequence, title, category, risk, status,
                      opened_at, updated_at) VALUES (1, 'O-2026-0001', 'o', 2026, 1, 'noise', 'noise', 'low',
                      'scheduled', 0, 0);
                    INSERT INTO session (id, dispute_id, office_id, starts_at, ends_at, status, sequence, created_at,
                      updated_at) VALUES (1, 1, 'o', 1000, 2000, 'booked', 0, 0, 0);
                    INSERT INTO outbox_message (id, token, session_id, kind, recipient_kind, recipient_id,
                      offset_minutes, sequence, due_at, status, attempts, next_attempt_at, channel, last_error,
                      created_at, sent_at)
                    VALUES (7, 's1.notice.expert3.ab-cd', 1, 'notice', 'expert', 3, NULL, 0, 10, 'sent', 1, 10,
                      'email', NULL, 5, 11),
                      (8, 's1.reminder.expert3.ef-01', 1, 'reminder', 'expert', 3, 60, 0, 940, 'pending', 0, 940,
                      NULL, NULL, 5, NULL);
                    INSERT INTO outbox_attempt (message_id, at, channel, result, detail)
                    VALUES (7, 11, 'email', 'sent', '250 ok');
                    """)
        }
        let before = try queue.read { db in try Row.fetchAll(db, sql: "SELECT * FROM outbox_message ORDER BY id") }

        try Migrations.migrator.migrate(queue)

        try queue.read { db in
            #expect(try Row.fetchAll(db, sql: "SELECT * FROM outbox_message ORDER BY id") == before)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox_attempt WHERE message_id = 7") == 1)
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            let indexes = try String.fetchAll(
                db, sql: "SELECT name FROM pragma_index_list('outbox_message') ORDER BY name")
            #expect(indexes == ["outbox_due", "outbox_message_on_session_id"])
            // The plans that need them still find them.
            let plan = try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN SELECT id FROM outbox_message WHERE session_id = 1"
            ).map { $0["detail"] as String }
            #expect(plan.contains { $0.contains("outbox_message_on_session_id") }, "\(plan)")
        }
        // New messages number on from the old ones.
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO outbox_message (token, session_id, kind, recipient_kind, recipient_id, sequence,
                      due_at, status, attempts, next_attempt_at, created_at)
                    VALUES ('s1.update.expert3.12-34', 1, 'update', 'expert', 3, 1, 20, 'pending', 0, 20, 20)
                    """)
            #expect(db.lastInsertedRowID == 9)
        }
    }
}

/// Message names take their random part from one read per booking; it must still be random throughout.
struct RandomBitsTests {
    @Test func everyWordIsFreshAndTheirBitsAreEvenlySet() {
        let words = RandomBits.words(1000) + RandomBits.words(1000)
        #expect(words.count == 2000)
        #expect(Set(words).count == 2000)
        // 128,000 bits: a fair source sets half of them, give or take a few hundred.
        let ones = words.reduce(0) { $0 + $1.nonzeroBitCount }
        #expect(abs(ones - 64_000) < 1_500, "\(ones) bits set")
        #expect(RandomBits.words(0).isEmpty)
    }
}
