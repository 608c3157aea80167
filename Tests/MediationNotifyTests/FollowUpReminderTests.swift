import Foundation
import MediationCore
import MediationStore
import Testing

@testable import MediationNotify

/// Follow-up visits' reminders go through the outbox on the visit's day, to the community staff member and the
/// office, and a visit recorded early withdraws its reminder.
struct FollowUpReminderTests {
    @Test func theAssigneeAndTheOfficeHearOnTheDayOfTheVisit() async throws {
        let outbox = OutboxTests()
        let clock = FixedWallClock(outbox.start)
        let (db, session) = try await outbox.fixture(clock)
        let channel = RecordingChannel()
        let d = try outbox.dispatcher(db, clock, channel)
        try await d.deliverDue()
        let before = channel.count
        clock.set(session.end.addingTimeInterval(600))
        let recorded = try await db.recordOutcome(
            session: session.id, Outcome(sessionId: session.id, result: .agreement, terms: "修好水管，赔偿 300 元"),
            policy: FollowUpPolicy(), actor: outbox.actor)
        #expect(recorded.dispute.status == .resolved)
        #expect(recorded.followUps.map(\.offsetDays) == [3, 30])
        let staff = try #require(session.panel.first { $0.requirement.role == .communityStaff }?.expertId)
        #expect(recorded.followUps.allSatisfy { $0.assigneeExpertId == staff })
        let queued = try await db.outbox(OutboxFilter(session: session.id)).filter { $0.kind == .followup }
        #expect(queued.count == 4)
        // Nothing before the day; on the day at 08:00 (Shanghai), the staff member and the office.
        try await d.deliverDue()
        #expect(channel.count == before)
        let first = recorded.followUps[0]
        clock.set(Zone.shanghai.instant(first.dueOn, try #require(TimeOfDay(minutes: 8 * 60))))
        try await d.deliverDue()
        let sent = channel.delivered.dropFirst(before)
        #expect(sent.count == 2)
        #expect(
            sent.allSatisfy { $0.notice.subject.contains("回访提醒") && $0.notice.text.contains(first.dueOn.description) })
        // Each says how to record this very visit, with its number (issue 14, item 11).
        #expect(
            sent.allSatisfy { $0.notice.text.contains("mediationctl followup record \(first.id) stable --notes") },
            "\(sent.map(\.notice.text))")
        #expect(Set(sent.map(\.notice.recipientName)) == ["周敏", "金山警务室"])
        // The second visit recorded a day early: its reminders are withdrawn.
        let second = recorded.followUps[1]
        clock.set(Zone.shanghai.instant(second.dueOn.adding(days: -1), try #require(TimeOfDay(minutes: 9 * 60))))
        _ = try await db.recordFollowUp(second.id, result: .stable, notes: "已履行", escalation: nil, actor: outbox.actor)
        clock.set(Zone.shanghai.instant(second.dueOn, try #require(TimeOfDay(minutes: 9 * 60))))
        try await d.deliverDue()
        #expect(channel.count == before + 2)
    }
}
