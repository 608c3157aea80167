import Foundation
import MediationCore
import MediationStore
import Testing

@testable import MediationNotify

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
