import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationStore

private let clerk = AuditActor(uid: 1001, user: "alice", role: "staff")
private let actor = Actor(uid: 1001, user: "alice", isAdmin: false)

/// Runs `body` as the clerk, as the server's access middleware does for each request.
private func acting<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
    try await AuditActor.$current.withValue(clerk) { try await body() }
}

/// Tuesday 2026-12-01 08:00 in Shanghai.
private let tuesday = Date(timeIntervalSince1970: 1_796_083_200)

/// An instant on the office's wall clock in December 2026.
private func december(_ day: Int, _ hour: Int, _ minute: Int = 0) throws -> Date {
    Zone.shanghai.instant(
        try #require(LocalDate(year: 2026, month: 12, day: day)), try #require(TimeOfDay(minutes: hour * 60 + minute)))
}

/// A store of `kind` reading `clock`, with office jinshan (weekdays 09:00–12:00 and 14:00–18:00), a legal officer,
/// a lawyer and a community staff member free every day from 08:00 to 22:00, and one dispute; answers the store,
/// the panel and the dispute's number.
private func withFixture(
    _ kind: StoreKind, _ clock: FixedWallClock, _ body: (AppDatabase, [Int64], String) async throws -> Void
) async throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let db =
        kind == .memory
        ? try AppDatabase.inMemory(clock: clock) : try AppDatabase.open(path: dir.file("s.sqlite"), clock: clock)
    _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室", disputePrefix: "JS"))
    let hours = try WeeklyWindow.parseList("mon-sun 08:00-22:00", field: "hours")
    var panel: [Int64] = []
    for (name, role, mobile) in [
        ("王建国", ExpertRole.legalOfficer, "13900000001"), ("陈志远", .lawyer, "13900000002"),
        ("周敏", .communityStaff, "13900000003"),
    ] {
        panel.append(
            try await db.createExpert(
                Expert(name: name, role: role, offices: ["jinshan"], mobile: mobile, weeklyHours: hours)
            ).id)
    }
    let dispute = try await db.openDispute(
        Dispute(officeId: "jinshan", title: "邻里噪音", category: "noise"),
        parties: [Party(name: "李明", side: .applicant, email: "li@example.cn")],
        categories: Dispute.defaultCategories, actor: actor)
    try await body(db, panel, dispute.dispute.number)
}

private func refused(_ kind: MediationError.Kind, _ text: String, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected \(kind) saying '\(text)'")
    } catch let e as MediationError {
        #expect(e.kind == kind && e.message.contains(text), "\(e.kind): \(e.message)")
    } catch {
        Issue.record("unexpected \(error)")
    }
}

@Suite struct SessionCorrectionStoreTests {
    @Test(arguments: StoreKind.allCases)
    func aSessionIsStartedAndEndedOnlyAroundItsTime(_ kind: StoreKind) async throws {
        let clock = FixedWallClock(tuesday)
        try await withFixture(kind, clock) { db, panel, number in
            let rules = SchedulingRules()
            let session = try await db.book(
                dispute: number, start: try december(7, 14), durationMinutes: 90, panel: panel, policy: nil,
                rules: rules, room: nil, actor: actor)
            await refused(.conflict, "it can be started from 2026-12-07T13:30:00+08:00") {
                _ = try await db.mark(session: session.id, .inSession, rules: rules, actor: actor)
            }
            await refused(.conflict, "it can be marked a no-show from its start") {
                _ = try await db.mark(session: session.id, .noShow, rules: rules, actor: actor)
            }
            #expect(try await db.session(session.id).status == .booked, "nothing written")
            #expect(try await db.dispute(number).dispute.status == .scheduled)
            clock.set(try december(7, 13, 30))
            #expect(try await db.mark(session: session.id, .inSession, rules: rules, actor: actor).status == .inSession)
            clock.set(try december(7, 13, 59))
            await refused(.conflict, "it can be ended from its start") {
                _ = try await db.mark(session: session.id, .ended, rules: rules, actor: actor)
            }
            clock.set(try december(7, 15, 30))
            #expect(try await db.mark(session: session.id, .ended, rules: rules, actor: actor).status == .ended)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anOutcomeIsAmendedOrVoidedAndReportsAndVisitsFollow(_ kind: StoreKind) async throws {
        let clock = FixedWallClock(tuesday)
        try await withFixture(kind, clock) { db, panel, number in
            let policy = FollowUpPolicy()
            let session = try await db.book(
                dispute: number, start: try december(7, 14), durationMinutes: 90, panel: panel, policy: nil,
                rules: SchedulingRules(), room: nil, actor: actor)
            clock.set(try december(7, 16))
            let recorded = try await acting {
                try await db.recordOutcome(
                    session: session.id,
                    Outcome(sessionId: session.id, result: .agreement, terms: "赔偿 1200 元", amountFen: 100),
                    policy: policy, actor: actor)
            }
            #expect(recorded.followUps.map(\.dueOn.description) == ["2026-12-10", "2027-01-06"])
            let december7 = try DayRange(from: "2026-12-07", to: "2026-12-07", today: nil)
            func agreements() async throws -> Int {
                let report = try await db.outcomesReport(range: december7, by: nil, office: nil)
                return report.total.agreements
            }
            func openVisits() async throws -> [FollowUp] { try await db.followUps(scope: .open) }
            func pendingReminders() async throws -> Int {
                let messages = try await db.outbox(OutboxFilter(session: session.id))
                return messages.filter { $0.kind == .followup && $0.status == .pending }.count
            }
            #expect(try await agreements() == 1)
            #expect(try await openVisits().count == 2)
            #expect(try await pendingReminders() == 4)
            await refused(.conflict, "correct it with 'outcome amend \(session.id) RESULT' or what else changes") {
                _ = try await db.recordOutcome(
                    session: session.id, Outcome(sessionId: session.id, result: .noAgreement), policy: policy,
                    actor: actor)
            }

            // The amount mistyped: corrected; the old value is in the audit trail; the visits stand.
            let amended = try await acting {
                try await db.amendOutcome(
                    session: session.id, OutcomeAmendment(amountFen: 120_000, reason: "金额录错"), policy: policy,
                    actor: actor)
            }
            #expect(amended.outcome.amountFen == 120_000 && amended.outcome.amendedBy == "alice")
            #expect(amended.planned.isEmpty && amended.cancelled.isEmpty && amended.disputeWas == nil)
            #expect(try await db.exportOutcomes(range: december7, office: nil).contains("1200.00"))
            let audit = try #require(try await db.auditEntries(AuditFilter(limit: 1)).first)
            #expect(audit.action == "outcome.amend" && audit.target == "session \(session.id)")
            #expect(audit.summary.contains("amount 1.00 → 1200.00") && audit.summary.contains("金额录错"), "\(audit)")
            // The same values again write nothing.
            let same = try await acting {
                try await db.amendOutcome(
                    session: session.id, OutcomeAmendment(amountFen: 120_000), policy: policy, actor: actor)
            }
            #expect(!same.changed)
            #expect(try await db.auditEntries(AuditFilter(limit: 1)).first?.id == audit.id)
            await refused(.invalidInput, "nothing to change") {
                _ = try await db.amendOutcome(
                    session: session.id, OutcomeAmendment(reason: "x"), policy: policy, actor: actor)
            }

            // Not an agreement after all: the visits and their reminders go, the dispute is unresolved.
            let none = try await acting {
                try await db.amendOutcome(
                    session: session.id, OutcomeAmendment(result: .noAgreement), policy: policy, actor: actor)
            }
            #expect(none.cancelled == recorded.followUps.map(\.id))
            #expect(none.disputeWas == .resolved && none.dispute.status == .unresolved)
            #expect(try await agreements() == 0)
            #expect(try await openVisits().isEmpty)
            #expect(try await pendingReminders() == 0)
            clock.set(try december(10, 9))
            await refused(.conflict, "follow-up #\(recorded.followUps[0].id) was cancelled") {
                _ = try await db.recordFollowUp(
                    recorded.followUps[0].id, result: .stable, notes: nil, escalation: nil, actor: actor)
            }
            // An agreement after all: visits planned again from the day it was held.
            let again = try await acting {
                try await db.amendOutcome(
                    session: session.id, OutcomeAmendment(result: .agreement), policy: policy, actor: actor)
            }
            #expect(again.planned.map(\.dueOn.description) == ["2026-12-10", "2027-01-06"])
            #expect(again.dispute.status == .resolved)
            #expect(try await agreements() == 1)
            #expect(try await openVisits().count == 2)

            // A reopened dispute: the outcome still counts until it is voided; voided, it counts nowhere, its
            // visits go, the dispute waits for the session's outcome, which can be recorded again.
            _ = try await db.changeStatus(number, to: .open, reason: "结果录错", actor: actor)
            #expect(try await agreements() == 1)
            #expect(try await openVisits().count == 2)
            await refused(.invalidInput, "needs a reason") {
                _ = try await db.voidOutcome(session: session.id, reason: " ", actor: actor)
            }
            let voided = try await acting {
                try await db.voidOutcome(session: session.id, reason: "录成了别的案件", actor: actor)
            }
            #expect(voided.outcome.voidReason == "录成了别的案件" && voided.cancelled.count == 2)
            #expect(voided.disputeWas == .open && voided.dispute.status == .inSession)
            #expect(try await agreements() == 0)
            #expect(try await openVisits().isEmpty)
            #expect(try await pendingReminders() == 0)
            #expect(try await db.outcomes(dispute: number).isEmpty)
            #expect(try await db.voidedOutcome(session: session.id)?.id == recorded.outcome.id)
            #expect(!(try await db.exportOutcomes(range: december7, office: nil).contains("1200.00")))
            #expect(
                try await db.auditEntries(AuditFilter(limit: 1)).first?.summary.contains(
                    "it was agreement, terms '赔偿 1200 元', amount 1200.00") == true)
            await refused(.notFound, "has no outcome to void") {
                _ = try await db.voidOutcome(session: session.id, reason: "twice", actor: actor)
            }
            let rerecorded = try await db.recordOutcome(
                session: session.id, Outcome(sessionId: session.id, result: .adjourned, notes: "下周再谈"),
                policy: policy, actor: actor)
            #expect(rerecorded.dispute.status == .unresolved && rerecorded.followUps.isEmpty)
            #expect(try await db.outcomes(dispute: number).map(\.result) == [.adjourned])

            // A closed dispute is kept as it was closed.
            _ = try await db.changeStatus(number, to: .closed, reason: "调解终结", actor: actor)
            await refused(.conflict, "is closed; reopen it first") {
                _ = try await db.amendOutcome(
                    session: session.id, OutcomeAmendment(notes: "补记"), policy: policy, actor: actor)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aSessionOutsideOfficeHoursIsBookedWithItsReasonAndKeepsIt(_ kind: StoreKind) async throws {
        let clock = FixedWallClock(tuesday)
        try await withFixture(kind, clock) { db, panel, number in
            let saturday = Interval(start: try december(5, 0), end: try december(6, 0))
            let holidays = SchedulingRules(holidays: [try #require(LocalDate(year: 2026, month: 12, day: 6))])
            let inside = try await db.findSlots(
                dispute: number, policy: nil, durationMinutes: 90, window: saturday, pinned: [], excluded: [],
                rules: holidays, maxOptions: 5)
            #expect(inside.answer.options.isEmpty && inside.outsideHoursReason == nil)
            await refused(.invalidInput, "needs a reason") {
                _ = try await db.findSlots(
                    dispute: number, policy: nil, durationMinutes: 90, window: saturday, pinned: [], excluded: [],
                    rules: holidays, maxOptions: 5, outsideHours: " ")
            }
            let outside = try await db.findSlots(
                dispute: number, policy: nil, durationMinutes: 90, window: saturday, pinned: [], excluded: [],
                rules: holidays, maxOptions: 5, outsideHours: "当事人工作日上班")
            let first = try #require(outside.answer.options.first)
            #expect(first.start == (try december(5, 8)), "from the experts' 08:00 on Saturday")
            let booked = try await acting {
                try await db.bookOption(dispute: number, number: 1, rules: holidays, room: nil, actor: actor)
            }
            #expect(booked.outsideHoursReason == "当事人工作日上班" && booked.start == first.start)
            let audit = try #require(try await db.auditEntries(AuditFilter(limit: 1)).first)
            #expect(audit.action == "session.book" && audit.summary.contains("outside office hours: 当事人工作日上班"))
            // Moved to a Saturday evening, it stays outside the hours; on a holiday, it cannot go.
            let moved = try await db.reschedule(
                session: booked.id, to: try december(5, 19), rules: holidays, actor: actor)
            #expect(moved.outsideHoursReason == "当事人工作日上班")
            await refused(.invalidInput, "2026-12-06 is a holiday") {
                _ = try await db.reschedule(session: booked.id, to: try december(6, 10), rules: holidays, actor: actor)
            }
            _ = try await db.cancel(session: booked.id, reason: "改期", actor: actor)

            // An explicit time: refused inside the rules, booked with a reason.
            await refused(.invalidInput, "is outside the office hours of jinshan") {
                _ = try await db.book(
                    dispute: number, start: try december(12, 19), durationMinutes: 90, panel: panel, policy: nil,
                    rules: holidays, room: nil, actor: actor)
            }
            let evening = try await db.book(
                dispute: number, start: try december(12, 19), durationMinutes: 90, panel: panel, policy: nil,
                rules: holidays, room: nil, actor: actor, outsideHours: "晚上才有空")
            #expect(try await db.session(evening.id).outsideHoursReason == "晚上才有空")
            _ = try await db.cancel(session: evening.id, reason: "改期", actor: actor)

            // An option found inside the hours is not booked outside them.
            let weekday = Interval(start: try december(7, 0), end: try december(8, 0))
            _ = try await db.findSlots(
                dispute: number, policy: nil, durationMinutes: 90, window: weekday, pinned: [], excluded: [],
                rules: holidays, maxOptions: 5)
            await refused(.invalidInput, "was found inside office hours") {
                _ = try await db.bookOption(
                    dispute: number, number: 1, rules: holidays, room: nil, actor: actor, outsideHours: "晚上")
            }
        }
    }
}

/// v13 rebuilds the outcome table so that a voided outcome makes way for a new one. Everything recorded before must
/// come through, with the follow-ups still pointing at their outcomes and foreign keys on; one outcome in force per
/// session still holds.
struct OutcomeCorrectionMigrationTests {
    @Test func outcomesAndTheirVisitsComeThroughAndOneOutcomeInForceStillHolds() throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator.migrate(queue, upTo: "v12-no-show-index")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO office (id, name, time_zone, working_hours, default_session_minutes, created_at,
                      updated_at) VALUES ('o', 'Office', 'UTC', '', 90, 0, 0);
                    INSERT INTO dispute (id, number, office_id, year, sequence, title, category, risk, status,
                      opened_at, updated_at) VALUES (1, 'O-2026-0001', 'o', 2026, 1, 'noise', 'noise', 'low',
                      'resolved', 0, 0);
                    INSERT INTO session (id, dispute_id, office_id, starts_at, ends_at, status, sequence, created_at,
                      updated_at) VALUES (1, 1, 'o', 1000, 2000, 'ended', 0, 0, 0);
                    INSERT INTO outcome (id, session_id, dispute_id, result, terms, amount_fen, signed, notes,
                      referred_to, held_at, recorded_at, recorded_uid, recorded_by)
                    VALUES (5, 1, 1, 'agreement', '赔偿', 120050, 1, NULL, NULL, 2000, 2100, 1001, 'alice');
                    INSERT INTO followup (id, dispute_id, session_id, outcome_id, office_id, due_on, due_day,
                      offset_days, created_at) VALUES (9, 1, 1, 5, 'o', '1970-01-04', 3, 3, 2100);
                    """)
        }
        let before = try #require(try queue.read { db in try Row.fetchOne(db, sql: "SELECT * FROM outcome") })
        try Migrations.migrator.migrate(queue)
        try queue.write { db in
            let after = try #require(try Row.fetchOne(db, sql: "SELECT * FROM outcome"))
            for column in Array(before.columnNames) {
                #expect(after[column] as DatabaseValue == before[column] as DatabaseValue, "\(column)")
            }
            #expect(after["voided_at"] as Double? == nil)
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            #expect(try Int64.fetchOne(db, sql: "SELECT outcome_id FROM followup WHERE id = 9") == 5)
            // A second outcome in force for the session is refused; once the first is voided, it is taken.
            let second = """
                INSERT INTO outcome (session_id, dispute_id, result, signed, held_at, recorded_at, recorded_uid)
                VALUES (1, 1, 'no_agreement', 0, 2000, 3000, 0)
                """
            #expect(throws: DatabaseError.self) { try db.execute(sql: second) }
            try db.execute(sql: "UPDATE outcome SET voided_at = 2900 WHERE id = 5")
            try db.execute(sql: second)
            #expect(db.lastInsertedRowID == 6)
            let plan = try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN SELECT id FROM outcome WHERE held_at >= 0 AND held_at < 10"
            ).map { $0["detail"] as String }
            #expect(plan.contains { $0.contains("outcome_on_held_at") }, "\(plan)")
        }
    }
}
