import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationNotify
@testable import MediationStore

extension OutboxTests {
    /// A due message whose kind this version does not know (written by a newer one, or by hand) is never sent as a
    /// notice: it goes dead with the reason naming table, column and row, and the others still go out.
    @Test func aMessageOfAnUnknownKindIsNotSent_andTheOthersAre() async throws {
        let clock = FixedWallClock(start)
        let (db, _) = try await fixture(clock)
        let messages = try await db.outbox(OutboxFilter())
        let bad = try #require(messages.first { $0.recipientKind == .expert && $0.kind == .notice })
        try await db.writer.write { d in
            try d.execute(sql: "UPDATE outbox_message SET kind = 'telegram' WHERE id = ?", arguments: [bad.id])
        }
        let channel = RecordingChannel()
        let d = try dispatcher(db, clock, channel)
        try await d.deliverDue()
        #expect(channel.count == 3, "the other two experts and the party are told")
        #expect(!channel.delivered.contains { $0.outboxId == bad.id })
        let (status, error) = try await db.writer.read { d in
            let row = try #require(
                try Row.fetchOne(
                    d, sql: "SELECT status, last_error FROM outbox_message WHERE id = ?", arguments: [bad.id]))
            return (row["status"] as String, row["last_error"] as String?)
        }
        #expect(status == "dead")
        for part in ["table outbox_message", "column kind", "row id \(bad.id)", "'telegram'"] {
            #expect(error?.contains(part) == true, "\(part) in \(error ?? "nil")")
        }
        // Nothing more is tried: it is dead, not due.
        try await d.deliverDue()
        #expect(channel.count == 3)
    }
}
