import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationNotify
@testable import MediationStore

/// The early-warning timer's work, driven by a clock the test moves: no sleeping.
@Suite struct WarningMonitorTests {
    @Test func aStalledHighRiskDisputeWarnsOnceAndIsDeliveredOnce() async throws {
        let clock = FixedWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let db = try AppDatabase.inMemory(clock: clock)
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室"))
        let actor = Actor(uid: 0, user: "root", isAdmin: true)
        let high = try await db.openDispute(
            Dispute(officeId: "jinshan", title: "高风险", category: "noise", risk: .high),
            categories: Dispute.defaultCategories, actor: actor)
        _ = try await db.openDispute(
            Dispute(officeId: "jinshan", title: "低风险", category: "noise", risk: .low),
            categories: Dispute.defaultCategories, actor: actor)
        let monitor = WarningMonitor(db: db, settings: WarningSettings(stalledDays: 3))
        #expect(try await monitor.check().isEmpty)
        clock.advance(by: 3 * 86400)
        #expect(try await monitor.check().isEmpty, "exactly three days is not yet more than three")
        clock.advance(by: 60)
        let raised = try await monitor.check()
        #expect(raised.map(\.rule) == [.stalledHighRisk])
        #expect(raised.first?.disputeId == high.dispute.id)
        // Evaluating again (the timer, or 'warning check') neither duplicates nor resends it.
        clock.advance(by: 86400)
        #expect(try await monitor.check().isEmpty)
        let stored = try await db.warnings()
        #expect(stored.count == 1)
        #expect(stored.first?.channel == "log")
        #expect(stored.first?.deliveredAt == clock.now().addingTimeInterval(-86400))
        #expect(try await db.warnings(undelivered: true).isEmpty)
    }

    @Test func aWarningGoesToTheDutyChannelOnce_andAFailedDeliveryIsTriedAgain() async throws {
        let clock = FixedWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let db = try AppDatabase.inMemory(clock: clock)
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室"))
        let actor = Actor(uid: 0, user: "root", isAdmin: true)
        _ = try await db.openDispute(
            Dispute(officeId: "jinshan", title: "高风险", category: "noise", risk: .critical),
            categories: Dispute.defaultCategories, actor: actor)
        // The robot refuses once (rate limit), then takes it.
        let robot = RecordingChannel(name: "wecom", quiet: true, answers: [.transient("45009 api freq out of limit")])
        let dispatcher = OutboxDispatcher(
            db: db,
            renderer: NoticeRenderer(
                settings: NoticeSettings(officeEmail: "duty@jinshan.example"),
                templates: try NoticeTemplates.load(directory: nil)),
            channels: ChannelSet(mail: RecordingChannel(), wecom: robot), retry: RetryPolicy(), clock: clock)
        let monitor = WarningMonitor(db: db, settings: WarningSettings(stalledDays: 3), dispatcher: dispatcher)
        clock.advance(by: 4 * 86400)
        #expect(try await monitor.check().count == 1)
        #expect(robot.count == 1)
        #expect(try await db.warnings(undelivered: true).count == 1, "refused: still to deliver")
        clock.advance(by: 900)
        #expect(try await monitor.check().isEmpty)
        #expect(robot.count == 2)
        #expect(try await db.warnings(undelivered: true).isEmpty)
        #expect(try await db.warnings().first?.channel == "wecom")
        #expect(robot.delivered.last?.chat.title.contains("预警") == true)
        clock.advance(by: 900)
        _ = try await monitor.check()
        #expect(robot.count == 2, "delivered once, never again")
    }

    /// A full disk: the store does not take "delivered". The check stops at the first warning it could not record,
    /// so each check re-sends at most that one, never every warning again and again.
    @Test func aWarningWhoseDeliveryCannotBeRecordedStopsTheCheck() async throws {
        let clock = FixedWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let db = try AppDatabase.inMemory(clock: clock)
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室"))
        let actor = Actor(uid: 0, user: "root", isAdmin: true)
        for title in ["高风险一", "高风险二", "高风险三"] {
            _ = try await db.openDispute(
                Dispute(officeId: "jinshan", title: title, category: "noise", risk: .critical),
                categories: Dispute.defaultCategories, actor: actor)
        }
        let robot = RecordingChannel(name: "wecom", quiet: true)
        let dispatcher = OutboxDispatcher(
            db: db,
            renderer: NoticeRenderer(
                settings: NoticeSettings(officeEmail: "duty@jinshan.example"),
                templates: try NoticeTemplates.load(directory: nil)),
            channels: ChannelSet(mail: RecordingChannel(), wecom: robot), retry: RetryPolicy(), clock: clock)
        let monitor = WarningMonitor(db: db, settings: WarningSettings(stalledDays: 3), dispatcher: dispatcher)
        try await db.writer.writeWithoutTransaction { db in
            try db.execute(
                sql: """
                    CREATE TEMP TRIGGER refuse_delivered BEFORE UPDATE ON warning
                    BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
                    """)
        }
        clock.advance(by: 4 * 86400)
        await #expect(throws: (any Error).self) { try await monitor.check() }
        #expect(robot.count == 1, "one sent, its record refused: the check stops")
        clock.advance(by: 900)
        await #expect(throws: (any Error).self) { try await monitor.check() }
        #expect(robot.count == 2, "the same one again, and only it")
        try await db.writer.writeWithoutTransaction { db in try db.execute(sql: "DROP TRIGGER temp.refuse_delivered") }
        clock.advance(by: 900)
        try await monitor.check()
        #expect(robot.count == 5 && Set(robot.delivered.map(\.chat.text)).count == 3, "\(robot.count)")
        #expect(try await db.warnings(undelivered: true).isEmpty)
    }

    /// The timer checks at start and then every interval by the clock: the test moves the clock, never waits.
    @Test func theTimerChecksAtStartAndAfterEveryIntervalByTheClock() async throws {
        let clock = FixedWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let db = try AppDatabase.inMemory(clock: clock)
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室"))
        let actor = Actor(uid: 0, user: "root", isAdmin: true)
        _ = try await db.openDispute(
            Dispute(officeId: "jinshan", title: "高风险", category: "noise", risk: .high),
            categories: Dispute.defaultCategories, actor: actor)
        let monitor = WarningMonitor(
            db: db, settings: WarningSettings(stalledDays: 3), interval: .seconds(900), clock: clock)
        let timer = Task { await monitor.run() }
        defer { timer.cancel() }
        await clock.sleeping()
        #expect(try await db.warnings().isEmpty, "checked at start: nothing stalled yet")
        // Past three days, but the next check is not due until the interval has passed since the last.
        clock.set(Date(timeIntervalSince1970: 1_800_000_000 + 3 * 86400 + 60))
        await clock.sleeping()
        #expect(try await db.warnings().count == 1, "the sleep ended when the clock passed it, and the check ran")
        clock.advance(by: 899)
        await clock.sleeping()
        #expect(try await db.warnings().count == 1)
    }
}
