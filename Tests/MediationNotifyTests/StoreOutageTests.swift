import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationNotify
@testable import MediationStore

/// A store that does not take the outcome of a delivery (a full disk, a store turned read-only): what was sent is
/// not sent again, nothing more goes out until the outcomes are stored, and the log hears of it once a minute.
struct StoreOutageTests {
    let base = OutboxTests()

    /// Makes the store refuse to record delivery attempts, as a full disk does, or take them again. (A trigger on
    /// the writer's connection: GRDB resets `query_only` around its reads.)
    func refuseWrites(_ db: AppDatabase, _ refuse: Bool) async throws {
        try await db.writer.writeWithoutTransaction { db in
            if refuse {
                try db.execute(
                    sql: """
                        CREATE TEMP TRIGGER refuse_attempts BEFORE INSERT ON outbox_attempt
                        BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
                        """)
            } else {
                try db.execute(sql: "DROP TRIGGER temp.refuse_attempts")
            }
        }
    }

    @Test func outcomesTheStoreRefusesAreKept_andNothingMoreGoesOutUntilTheyAreStored() async throws {
        let clock = FixedWallClock(base.start)
        let (db, _) = try await base.fixture(clock)
        let channel = RecordingChannel()
        let d = try base.dispatcher(
            db, clock, channel, retry: RetryPolicy(maxAttempts: 3, baseSeconds: 1, maxSeconds: 2))
        try await refuseWrites(db, true)
        await #expect(throws: MediationError.self) { try await d.deliverDue() }
        #expect(channel.count == 4, "the four notices went out once")
        // However often the dispatcher tries and however long it lasts, nothing goes out again.
        for _ in 0..<5 {
            clock.advance(by: 120)
            await #expect(throws: MediationError.self) { try await d.deliverDue() }
        }
        #expect(channel.count == 4)
        #expect(try await db.outbox(OutboxFilter(status: .pending)).filter { $0.kind == .notice }.count == 4)

        // Writable again: the outcomes are stored as they happened (one attempt, sent when they were sent), and
        // nothing is sent twice.
        try await refuseWrites(db, false)
        #expect(try await d.deliverDue() == 0)
        let sent = try await db.outbox(OutboxFilter(status: .sent))
        #expect(sent.count == 4)
        #expect(sent.allSatisfy { $0.attempts == 1 && $0.sentAt == base.start }, "\(sent.map(\.sentAt))")
        #expect(try await d.deliverDue() == 0)
        #expect(channel.count == 4)
    }

    @Test func theDispatcherBacksOffAndLogsTheOutageOnceAMinuteByTheInjectedClock() {
        var outage = StoreOutage()
        let t = Date(timeIntervalSince1970: 1_796_090_400)
        #expect(outage.ended(at: t) == nil, "no outage, nothing to say")
        // A try every second for 200 seconds.
        var waits: [Duration] = []
        var logged: [Int] = []
        for second in 0..<200 {
            let (wait, log) = outage.failed(at: t.addingTimeInterval(Double(second)))
            waits.append(wait)
            if log { logged.append(second) }
        }
        #expect(
            Array(waits.prefix(7)) == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10),
            ])
        #expect(waits.allSatisfy { $0 <= .seconds(10) })
        #expect(logged == [0, 60, 120, 180])
        #expect(outage.ended(at: t.addingTimeInterval(200)) == 200, "its end is logged with how long it lasted")
        // A short one within the minute after the last line: neither it nor its end is logged.
        #expect(outage.failed(at: t.addingTimeInterval(210)).log == false)
        #expect(outage.ended(at: t.addingTimeInterval(212)) == nil)
        // A later one is, and starts again from the shortest wait.
        let later = outage.failed(at: t.addingTimeInterval(300))
        #expect(later.log && later.wait == .milliseconds(500))
    }
}
