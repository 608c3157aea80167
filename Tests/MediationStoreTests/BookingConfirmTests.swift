import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationStore

/// A booking is checked on a read snapshot and confirmed inside the write transaction (`AppDatabase.confirm`).
/// Whatever changed in between must either be read again there or send the booking back to the whole check:
/// these tests change each kind of thing between the plan and the confirmation.
struct BookingConfirmTests {
    let actor = Actor(uid: 1000, user: "staff", isAdmin: false)
    let rules = SchedulingRules(minimumNoticeMinutes: 0)
    let requirements = PanelPolicy.standard.requirements
    let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 + 3 * 86400)

    struct Fixture {
        let db: AppDatabase
        let dir: TemporaryDirectory
        let trio: [Int64]
        let others: [Int64]
        let disputes: [String]
    }

    private func fixture() async throws -> Fixture {
        let dir = try TemporaryDirectory()
        let db = try AppDatabase.open(path: dir.file("mediation.sqlite"))
        let always = try WeeklyWindow.parseList("mon-sun 00:00-24:00", field: "hours")
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室", workingHours: always))
        var ids: [Int64] = []
        for copy in 0..<2 {
            for (i, role) in [ExpertRole.legalOfficer, .lawyer, .communityStaff].enumerated() {
                let expert = try await db.createExpert(
                    Expert(
                        name: "专家\(copy)\(i)", role: role, offices: ["jinshan"],
                        email: "e\(copy)\(i)@example.org", maxSessionsPerDay: 2,
                        maxSessionsPerWeek: 5, weeklyHours: always))
                ids.append(expert.id)
            }
        }
        var disputes: [String] = []
        for n in 0..<3 {
            let detail = try await db.openDispute(
                Dispute(officeId: "jinshan", title: "楼上漏水 \(n)", category: "neighbour"), categories: ["neighbour"],
                actor: actor)
            disputes.append(detail.dispute.number)
        }
        return Fixture(db: db, dir: dir, trio: Array(ids[0..<3]), others: Array(ids[3..<6]), disputes: disputes)
    }

    /// The plan for `dispute` at `at` with `panel`, made on a read snapshot as a request would make it.
    private func plan(_ f: Fixture, _ dispute: String, panel: [Int64], at: Date) async throws -> BookingPlan {
        try await f.db.read { [rules, requirements] db in
            let record = try AppDatabase.findDispute(dispute, db)
            return try AppDatabase.plan(
                db, dispute: record, office: try AppDatabase.officeOf(record.dispute, db), start: at, duration: 90,
                requirements: requirements, panel: panel, rules: rules, now: Date())
        }
    }

    private func confirms(_ f: Fixture, _ plan: BookingPlan) async throws -> Bool {
        try await f.db.groupWrite { [rules] db in try AppDatabase.confirm(db, plan, rules: rules) != nil }
    }

    private func stamp(_ f: Fixture) async throws -> Int64 {
        try await f.db.read { db in try AppDatabase.scheduleStamp(db) }
    }

    @Test func anUnchangedPlanIsConfirmedAndBookingsElsewhereDoNotMoveTheStamp() async throws {
        let f = try await fixture()
        defer { f.dir.remove() }
        let p = try await plan(f, f.disputes[0], panel: f.trio, at: start)
        let before = try await stamp(f)
        _ = try await f.db.book(
            dispute: f.disputes[1], start: start, durationMinutes: 90, panel: f.others, policy: nil, rules: rules,
            room: nil, actor: actor)
        #expect(try await stamp(f) == before)
        #expect(try await confirms(f, p))
    }

    @Test func aClashBookedInBetweenIsRefusedNamingIt() async throws {
        let f = try await fixture()
        defer { f.dir.remove() }
        let p = try await plan(f, f.disputes[0], panel: f.trio, at: start)
        // Another booking takes the legal officer at an overlapping time after the plan was made.
        let other = try await f.db.book(
            dispute: f.disputes[1], start: start.addingTimeInterval(1800), durationMinutes: 90,
            panel: [f.trio[0], f.others[1], f.others[2]], policy: nil, rules: rules, room: nil, actor: actor)
        await #expect {
            _ = try await confirms(f, p)
        } throws: { error in
            let message = (error as? MediationError)?.message ?? ""
            return message.contains("is already booked for session #\(other.id)")
        }
    }

    @Test func anotherSessionOfAPanelMemberSendsItBackToTheWholeCheck() async throws {
        let f = try await fixture()
        defer { f.dir.remove() }
        let p = try await plan(f, f.disputes[0], panel: f.trio, at: start)
        // No clash, but the day now holds one more session for the lawyer: caps must be counted again.
        _ = try await f.db.book(
            dispute: f.disputes[1], start: start.addingTimeInterval(4 * 3600), durationMinutes: 90,
            panel: [f.others[0], f.trio[1], f.others[2]], policy: nil, rules: rules, room: nil, actor: actor)
        #expect(try await confirms(f, p) == false)
    }

    @Test func timeOffAddedInBetweenSendsItBackAndTheWholeCheckRefuses() async throws {
        let f = try await fixture()
        defer { f.dir.remove() }
        let p = try await plan(f, f.disputes[0], panel: f.trio, at: start)
        _ = try await f.db.addSpan(
            .timeOff, expert: String(f.trio[2]),
            interval: Interval(start: start.addingTimeInterval(-3600), end: start.addingTimeInterval(86400)),
            note: "年假")
        #expect(try await confirms(f, p) == false)
        await #expect(throws: MediationError.self) {
            _ = try await f.db.book(
                dispute: f.disputes[0], start: start, durationMinutes: 90, panel: f.trio, policy: nil,
                rules: rules, room: nil, actor: actor)
        }
    }

    @Test func aRiskChangeOrAConflictInBetweenMovesTheStamp() async throws {
        let f = try await fixture()
        defer { f.dir.remove() }
        let first = try await plan(f, f.disputes[0], panel: f.trio, at: start)
        _ = try await f.db.setRisk(f.disputes[0], to: .high, reason: "threats", actor: actor)
        #expect(try await confirms(f, first) == false)

        let second = try await plan(f, f.disputes[1], panel: f.others, at: start)
        _ = try await f.db.addConflict(
            expert: String(f.others[0]), partyId: nil, organisation: "某物业公司", reason: "former employee")
        #expect(try await confirms(f, second) == false)
    }

    @Test func everyWatchedTableMovesTheStamp() async throws {
        let f = try await fixture()
        defer { f.dir.remove() }
        var last = try await stamp(f)
        func moved() async throws -> Bool {
            let now = try await stamp(f)
            defer { last = now }
            return now > last
        }
        try await f.db.writer.write { db in try db.execute(sql: "UPDATE office SET name = name || '' ") }
        #expect(try await moved())
        try await f.db.writer.write { db in try db.execute(sql: "UPDATE expert SET notes = 'x' WHERE id = 1") }
        #expect(try await moved())
        _ = try await f.db.addSpan(
            .extra, expert: "1", interval: Interval(start: start, end: start.addingTimeInterval(3600)), note: nil)
        #expect(try await moved())
        _ = try await f.db.addParty(f.disputes[2], Party(name: "王芳", side: .applicant))
        #expect(try await moved())
        try await f.db.writer.write { db in try db.execute(sql: "UPDATE panel_policy SET description = 'x'") }
        #expect(try await moved())
        try await f.db.writer.write { db in try db.execute(sql: "DELETE FROM expert_extra_availability") }
        #expect(try await moved())
        // A status change alone (what a booking does to its dispute) leaves it.
        try await f.db.writer.write { db in try db.execute(sql: "UPDATE dispute SET status = status") }
        #expect(try await moved() == false)
    }
}
