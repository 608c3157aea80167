import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationStore

/// The store never turns a stored value it cannot read into a default: the read fails, naming table, column and
/// row, and says what to do. The values are written with raw SQL (CHECK constraints off, as a newer version or a
/// hand edit would leave them).
@Suite struct StrictDecodingTests {
    let actor = Actor(uid: 0, user: "test", isAdmin: true)
    // Tuesday 1 December 2026, 10:00 in Shanghai.
    let now = Date(timeIntervalSince1970: 1_796_090_400)

    /// A new store of `kind` whose clock stands at `now`.
    func withStore(_ kind: StoreKind, _ body: (AppDatabase) async throws -> Void) async throws {
        let clock = FixedWallClock(now)
        switch kind {
        case .memory:
            try await body(try AppDatabase.inMemory(clock: clock))
        case .file:
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            try await body(try AppDatabase.open(path: dir.file("mediation.sqlite"), clock: clock))
        }
    }

    /// An office, an expert, a dispute with a party and a booked session (with its notices queued).
    func seeded(_ db: AppDatabase) async throws -> (expert: Int64, session: Int64, message: Int64) {
        let allDay = try WeeklyWindow.parseList("mon-sun 00:00-24:00", field: "hours")
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室", workingHours: allDay))
        var panel: [Int64] = []
        for (name, role, email) in [
            ("王芳", ExpertRole.lawyer, "w@example.org"), ("张警官", .legalOfficer, "z@example.org"),
            ("周敏", .communityStaff, "m@example.org"),
        ] {
            panel.append(
                try await db.createExpert(
                    Expert(name: name, role: role, offices: ["jinshan"], email: email, weeklyHours: allDay)
                ).id)
        }
        let detail = try await db.openDispute(
            Dispute(officeId: "jinshan", title: "漏水", category: "neighbour"),
            parties: [Party(name: "李强", side: .applicant, email: "l@example.cn")], categories: ["neighbour"],
            actor: actor)
        let session = try await db.book(
            dispute: detail.dispute.number, start: now.addingTimeInterval(3 * 86400), durationMinutes: 60,
            panel: panel, policy: nil, rules: SchedulingRules(), room: nil, actor: actor)
        let message = try #require(try await db.outbox(OutboxFilter()).first).id
        return (panel[0], session.id, message)
    }

    /// Writes `sql` as a hand edit would: CHECK constraints off.
    func corrupt(_ db: AppDatabase, _ sql: String, _ arguments: StatementArguments) async throws {
        try await db.writer.writeWithoutTransaction { d in
            try d.execute(sql: "PRAGMA ignore_check_constraints = ON")
            defer { try? d.execute(sql: "PRAGMA ignore_check_constraints = OFF") }
            try d.execute(sql: sql, arguments: arguments)
        }
    }

    /// The error a read gives: `unavailable`, naming table, column, row and the value.
    func unreadable(_ read: () async throws -> Void) async -> MediationError? {
        do {
            try await read()
            return nil
        } catch let error as MediationError {
            return error
        } catch {
            Issue.record("not a MediationError: \(error)")
            return nil
        }
    }

    func expectNames(_ error: MediationError?, _ parts: [String]) {
        guard let error else {
            Issue.record("the read did not fail")
            return
        }
        #expect(error.kind == .unavailable)
        for part in parts { #expect(error.message.contains(part), "\(part) in: \(error.message)") }
        #expect(error.message.contains("restore a backup"))
    }

    @Test(arguments: StoreKind.allCases)
    func anUnknownOutboxStatusIsAnErrorAndTheMessageIsNotRetried(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let (_, _, message) = try await seeded(db)
            try await corrupt(db, "UPDATE outbox_message SET status = 'resent' WHERE id = ?", [message])
            let parts = ["table outbox_message", "column status", "row id \(message)", "'resent'", "pending"]
            expectNames(await unreadable { _ = try await db.outboxMessage(message) }, parts)
            expectNames(await unreadable { _ = try await db.outbox(OutboxFilter()) }, parts)
            // Read as pending, it would be sent again: it is refused, and left as it is.
            expectNames(await unreadable { _ = try await db.retry(message: message) }, parts)
            let stored = try await db.writer.read { d in
                try String.fetchOne(d, sql: "SELECT status FROM outbox_message WHERE id = ?", arguments: [message])
            }
            #expect(stored == "resent")
            expectNames(await unreadable { _ = try await db.outboxCounts() }, ["table outbox_message", "'resent'"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anUnknownExpertRoleIsAnErrorNotALawyer(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let (expert, _, _) = try await seeded(db)
            try await corrupt(db, "UPDATE expert SET role = 'judge' WHERE id = ?", [expert])
            let parts = ["table expert", "column role", "row id \(expert)", "'judge'", "legal_officer, lawyer"]
            expectNames(await unreadable { _ = try await db.expert(String(expert)) }, parts)
            expectNames(await unreadable { _ = try await db.experts() }, parts)
            let week = try DayRange(from: "2026-01-05", to: "2026-01-11", today: nil)
            expectNames(await unreadable { _ = try await db.expertsReport(range: week) }, parts)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anUnknownOfficeZoneIsAnErrorNotShanghai(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let (_, session, _) = try await seeded(db)
            try await corrupt(db, "UPDATE office SET time_zone = 'Mars/Olympus' WHERE id = 'jinshan'", [])
            let parts = ["table office", "column time_zone", "row id 'jinshan'", "'Mars/Olympus'", "Asia/Shanghai"]
            expectNames(await unreadable { _ = try await db.office("jinshan") }, parts)
            // Every time shown in the office's zone fails with it, rather than being shown in another zone.
            let listed = try await db.sessions()
            expectNames(await unreadable { _ = try await db.display(listed) }, parts)
            expectNames(
                await unreadable {
                    _ = try await db.reschedule(
                        session: session, to: now.addingTimeInterval(4 * 86400), rules: SchedulingRules(),
                        actor: actor)
                }, parts)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anUnknownSessionStatusIsAnErrorNotBooked(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let (_, session, _) = try await seeded(db)
            try await corrupt(db, "UPDATE session SET status = 'paused' WHERE id = ?", [session])
            let parts = ["table session", "column status", "row id \(session)", "'paused'", "booked, in_session"]
            expectNames(await unreadable { _ = try await db.session(session) }, parts)
            expectNames(
                await unreadable { _ = try await db.cancel(session: session, reason: "test", actor: actor) }, parts)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aValueInTheWrongFormIsAnErrorNeverDropped(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let (expert, session, _) = try await seeded(db)
            // Weekly hours that do not read are not read as "never free".
            try await corrupt(db, "UPDATE expert SET weekly_hours = '1:540-' WHERE id = ?", [expert])
            expectNames(
                await unreadable { _ = try await db.expert(String(expert)) },
                ["table expert", "column weekly_hours", "row id \(expert)", "'1:540-'"])
            try await corrupt(db, "UPDATE expert SET weekly_hours = '' WHERE id = ?", [expert])
            // A panel seat whose requirement does not read is not dropped from the panel.
            try await corrupt(db, "UPDATE session_panel SET requirement = 'judge' WHERE session_id = ?", [session])
            expectNames(
                await unreadable { _ = try await db.session(session) },
                ["table session_panel", "column requirement", "session_id \(session)", "'judge'"])
            // Text in an integer column is not read as 0, nor a blob that is not UTF-8 as text.
            try await corrupt(
                db, "UPDATE session_panel SET requirement = 'lawyer', requirement_index = 'first' WHERE session_id = ?",
                [session])
            expectNames(
                await unreadable { _ = try await db.session(session) },
                ["table session_panel", "column requirement_index", "holds text where an integer is expected"])
            try await corrupt(db, "UPDATE session SET cancel_reason = x'ff' WHERE id = ?", [session])
            try await corrupt(db, "UPDATE session_panel SET requirement_index = 0 WHERE session_id = ?", [session])
            expectNames(
                await unreadable { _ = try await db.session(session) },
                [
                    "table session", "column cancel_reason", "row id \(session)",
                    "holds a blob where text is expected",
                ])
        }
    }
}
