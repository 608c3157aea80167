import Foundation
import Hummingbird
import HummingbirdTesting
import MediationCore
import Testing

@testable import MediationServer
@testable import MediationStore

/// What depends on an office's day is read in that office's zone, never in a zone chosen for it.
@Suite struct OfficeZoneRouteTests {
    let actor = Actor(uid: 0, user: "test", isAdmin: true)

    @Test func aVisitIsOverdueByItsOfficesDayNotShanghais() async throws {
        let clock = FixedWallClock(Date(timeIntervalSince1970: 1_796_083_200))  // 2026-12-01T00:00:00Z
        let db = try AppDatabase.inMemory(clock: clock)
        let app = Application(
            router: try MediationServer.router(db: db, policy: policy(), info: ServerInfo(clock: clock)))
        let allDay = try WeeklyWindow.parseList("mon-sun 00:00-24:00", field: "hours")
        _ = try await db.createOffice(
            Office(id: "auckland", name: "Auckland", timeZone: "Pacific/Auckland", workingHours: allDay))
        var panel: [Int64] = []
        for (name, role) in [("Aroha", ExpertRole.legalOfficer), ("Wiremu", .lawyer), ("Mere", .communityStaff)] {
            panel.append(
                try await db.createExpert(
                    Expert(
                        name: name, role: role, offices: ["auckland"], email: "\(name.lowercased())@example.nz",
                        timeZone: "Pacific/Auckland", weeklyHours: allDay)
                ).id)
        }
        let detail = try await db.openDispute(
            Dispute(officeId: "auckland", title: "Fence", category: "neighbour"),
            parties: [Party(name: "Tama", side: .applicant, email: "t@example.nz", timeZone: "Pacific/Auckland")],
            categories: ["neighbour"], actor: actor)
        let session = try await db.book(
            dispute: detail.dispute.number, start: clock.now().addingTimeInterval(86400), durationMinutes: 60,
            panel: panel, policy: nil, rules: SchedulingRules(), room: nil, actor: actor)
        clock.set(session.start)
        _ = try await db.mark(session: session.id, .inSession, rules: SchedulingRules(), actor: actor)
        clock.set(session.end)
        _ = try await db.mark(session: session.id, .ended, rules: SchedulingRules(), actor: actor)
        let recorded = try await db.recordOutcome(
            session: session.id, Outcome(sessionId: session.id, result: .agreement, terms: "A new fence, costs halved"),
            policy: FollowUpPolicy(afterAgreementDays: [3], highRiskExtraDays: []), actor: actor)
        let visit = try #require(recorded.followUps.first)
        // 00:30 the day after the visit in Auckland (UTC+13) is still the visit's own day in Shanghai (UTC+8).
        let auckland = try Zone("Pacific/Auckland")
        clock.set(auckland.instant(visit.dueOn.adding(days: 1), try #require(TimeOfDay(parsing: "00:30"))))
        #expect(Zone.shanghai.wallClock(clock.now()).date == visit.dueOn)
        try await app.test(.router) { base in
            let client = Client(base: base)
            let reply = try await client.send(.get, "/v1/followups?scope=all")
            let shown = try #require((try reply.json()["followUps"] as? [[String: Any]])?.first, "\(reply.text)")
            #expect(shown["overdue"] as? Bool == true, "\(reply.text)")
            let overdue = try await client.send(.get, "/v1/followups?scope=overdue").json()
            #expect((overdue["followUps"] as? [Any])?.count == 1, "the list and the flag agree")
        }
    }
}
