import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationStore

private let alice = AuditActor(uid: 1001, user: "alice", role: "staff")

/// Runs `body` as `actor`, as the server's access middleware does for each request.
private func acting<T: Sendable>(_ actor: AuditActor = alice, _ body: () async throws -> T) async rethrows -> T {
    try await AuditActor.$current.withValue(actor) { try await body() }
}

private func auditCount(_ db: AppDatabase) async throws -> Int {
    try await db.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit") ?? 0 }
}

private func seed(_ db: AppDatabase) async throws -> DisputeDetail {
    _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室", disputePrefix: "JS"))
    return try await db.openDispute(
        Dispute(officeId: "jinshan", title: "邻里噪音", category: "noise"),
        parties: [
            Party(
                name: "李明", side: .applicant, mobile: "13700000001", email: "li@example.cn",
                idCard: "11010519491231002X"),
            Party(name: "王强", side: .respondent, mobile: "13700000002", organisation: "金山物业"),
        ], categories: Dispute.defaultCategories, actor: Actor(uid: 1001, user: "alice", isAdmin: false))
}

@Suite struct AuditStoreTests {
    @Test(arguments: StoreKind.allCases)
    func aChangeLeavesOneRowNamingTheActorAndAFailedOneNone(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let opened = try await acting { try await seed(db) }
            var rows = try await db.auditEntries()
            #expect(rows.map(\.action) == ["dispute.open", "office.add"])
            let open = try #require(rows.first)
            #expect(open.uid == 1001 && open.user == "alice" && open.role == "staff")
            #expect(open.target == "dispute \(opened.dispute.number)")
            #expect(open.summary.contains("邻里噪音") && open.summary.contains("2 parties"))

            // Refused changes write nothing, the audit row included.
            let actor = Actor(uid: 1001, user: "alice", isAdmin: false)
            await #expect(throws: MediationError.self) {
                try await acting { try await db.setRisk(opened.dispute.number, to: .low, reason: "same", actor: actor) }
            }
            await #expect(throws: MediationError.self) {
                try await acting {
                    try await db.changeStatus(opened.dispute.number, to: .resolved, reason: "x", actor: actor)
                }
            }
            await #expect(throws: MediationError.self) {
                try await acting { try await db.removeParty(opened.dispute.number, party: "999") }
            }
            #expect(try await auditCount(db) == 2)

            // A party's mobile and ID number never reach the audit trail in full.
            let party = try #require(opened.parties.first)
            _ = try await acting {
                try await db.updateParty(opened.dispute.number, party: String(party.id)) {
                    $0.mobile = "13900000009"
                    $0.idCard = "110105194912310038"
                }
            }
            rows = try await db.auditEntries(AuditFilter(limit: 1))
            let update = try #require(rows.first)
            #expect(update.action == "party.update")
            #expect(update.summary.contains("137****0001") && update.summary.contains("139****0009"))
            #expect(update.summary.contains("1101**********0038"))
            for row in try await db.auditEntries() {
                for secret in ["13700000001", "13900000009", "11010519491231002X", "110105194912310038"] {
                    #expect(!row.summary.contains(secret) && !row.target.contains(secret), "\(row)")
                }
            }

            // Without an actor (the dispatcher's bookkeeping) nothing is recorded.
            _ = try await db.createOffice(Office(id: "xinhua", name: "新华"))
            #expect(try await auditCount(db) == 3)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func auditRowsCannotBeChangedOrRemovedBySQL(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            _ = try await acting { try await seed(db) }
            for sql in [
                "UPDATE audit SET user = 'mallory'", "DELETE FROM audit", "DELETE FROM audit WHERE id = 1",
                "UPDATE audit SET summary = '' WHERE action = 'dispute.open'",
                "INSERT OR REPLACE INTO audit "
                    + "(id, at, uid, user, role, action, target, summary) VALUES (1, 0, 0, 'x', 'admin', 'x', 'x', 'x')",
            ] {
                do {
                    try await db.writer.write { db in try db.execute(sql: sql) }
                    Issue.record("\(sql) was allowed")
                } catch let error as DatabaseError {
                    #expect(error.message?.contains("append-only") == true, "\(sql): \(error)")
                }
            }
            let rows = try await db.auditEntries()
            #expect(rows.count == 2)
            #expect(rows.allSatisfy { $0.user == "alice" })
        }
    }

    @Test func groupCommitKeepsEachAuditRowWithItsChange() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.file("mediation.sqlite"))
        // Writes in one round share a transaction; each runs in a savepoint, so a failing one loses its audit
        // row with its change while the others keep theirs, each under its own actor.
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<60 {
                group.addTask {
                    let actor = AuditActor(uid: UInt32(2000 + i), user: "user\(i)", role: "staff")
                    do {
                        try await AuditActor.$current.withValue(actor) {
                            try await db.groupWrite { d in
                                try d.execute(
                                    sql:
                                        "INSERT INTO office (id, name, time_zone, working_hours, default_session_minutes, created_at, updated_at) VALUES (?, 'o', 'Asia/Shanghai', '', 60, 0, 0)",
                                    arguments: ["o\(i)"])
                                try db.audit(d, "office.add", "office o\(i)", "test")
                                if i % 5 == 0 { throw MediationError.conflict("refused") }
                            }
                        }
                        return (i, true)
                    } catch { return (i, false) }
                }
            }
            var all: [(Int, Bool)] = []
            for await r in group { all.append(r) }
            return all
        }
        let kept = Set(outcomes.filter(\.1).map(\.0))
        #expect(kept == Set((0..<60).filter { $0 % 5 != 0 }))
        let rows = try await db.auditEntries(AuditFilter(limit: 1000))
        #expect(Set(rows.map(\.target)) == Set(kept.map { "office o\($0)" }))
        #expect(rows.allSatisfy { "office o\($0.uid - 2000)" == $0.target && $0.user == "user\($0.uid - 2000)" })
        let offices = try await db.offices().map(\.id)
        #expect(Set(offices) == Set(kept.map { "o\($0)" }))
    }

    @Test func listingFiltersBySinceActorAndTarget() async throws {
        let clock = FixedWallClock(Date(timeIntervalSince1970: 1_796_000_000))
        let db = try AppDatabase.inMemory(clock: clock)
        let opened = try await acting { try await seed(db) }
        clock.advance(by: 86400)
        let bob = AuditActor(uid: 1002, user: "bob", role: "admin")
        _ = try await acting(bob) { try await db.createOffice(Office(id: "xinhua", name: "新华")) }
        #expect(try await db.auditEntries(AuditFilter(actor: "bob")).map(\.action) == ["office.add"])
        #expect(try await db.auditEntries(AuditFilter(actor: "1001")).count == 2)
        #expect(try await db.auditEntries(AuditFilter(target: opened.dispute.number)).map(\.action) == ["dispute.open"])
        #expect(try await db.auditEntries(AuditFilter(target: "%")).isEmpty)
        #expect(
            try await db.auditEntries(AuditFilter(since: clock.now().addingTimeInterval(-10))).map(\.user) == ["bob"])
        await #expect(throws: MediationError.self) { try await db.auditEntries(AuditFilter(limit: 0)) }
    }

    /// Mobiles, ID numbers and other long numbers are masked wherever they stand; six digits or fewer stay, so a
    /// summary without a long number comes back as it was.
    @Test func summariesLoseTheirLongNumbers() {
        #expect(AuditText.scrub("party 李明 13800138000 added") == "party 李明 138****8000 added")
        #expect(AuditText.scrub("id 11010519491231002X;") == "id 1101**********002X;")
        #expect(AuditText.scrub("id 110105491231002") == "id 1101*******1002")
        #expect(AuditText.scrub("+8613800138000") == "+861******8000")
        #expect(AuditText.scrub("call 12345678 now") == "call 123*5678 now")
        #expect(
            AuditText.scrub("booked for dispute JS-2026-0042 at 2026-12-07T01:30:00Z, 90 min, panel #12 #130000")
                == "booked for dispute JS-2026-0042 at 2026-12-07T01:30:00Z, 90 min, panel #12 #130000")
        #expect(AuditText.scrub("room 123456, floor 2") == "room 123456, floor 2")
        #expect(AuditText.scrub("") == "")
    }
}

@Suite struct RetentionStoreTests {
    /// Closes a dispute, then moves its closing date back by `days`.
    private func closeLongAgo(_ db: AppDatabase, _ number: String, days: Double) async throws {
        _ = try await db.changeStatus(
            number, to: .closed, reason: "done", actor: Actor(uid: 0, user: nil, isAdmin: true))
        try await db.writer.write { d in
            try d.execute(
                sql: "UPDATE dispute SET closed_at = closed_at - ? WHERE number = ?", arguments: [days * 86400, number])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func oldClosedDisputesLoseContactDetailsButKeepTheirCounts(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let old = try await seed(db)
            let actor = Actor(uid: 0, user: nil, isAdmin: true)
            let recent = try await db.openDispute(
                Dispute(officeId: "jinshan", title: "停车纠纷", category: "noise"),
                parties: [Party(name: "赵六", side: .applicant, mobile: "13700000003")],
                categories: Dispute.defaultCategories, actor: actor)
            let open = try await db.openDispute(
                Dispute(officeId: "jinshan", title: "漏水", category: "noise"),
                parties: [Party(name: "钱七", side: .applicant, mobile: "13700000004")],
                categories: Dispute.defaultCategories, actor: actor)
            try await closeLongAgo(db, old.dispute.number, days: 800)  // more than 24 months
            try await closeLongAgo(db, recent.dispute.number, days: 600)  // less

            let dry = try await db.applyRetention(months: 24, dryRun: true)
            #expect(dry.disputes == 1 && dry.parties == 2 && dry.dryRun)
            #expect(try await db.dispute(old.dispute.number).parties.compactMap(\.mobile).count == 2)

            let report = try await AuditActor.$current.withValue(AuditActor.system(uid: 0)) {
                try await db.applyRetention(months: 24, dryRun: false)
            }
            #expect(report.disputes == 1 && report.parties == 2 && !report.dryRun)
            let anonymised = try await db.dispute(old.dispute.number)
            #expect(anonymised.parties.map(\.name) == ["李明", "王强"])
            #expect(anonymised.parties.allSatisfy { $0.mobile == nil && $0.email == nil && $0.idCard == nil })
            #expect(anonymised.parties.map(\.organisation) == [nil, "金山物业"])
            #expect(try await db.dispute(recent.dispute.number).parties.first?.mobile == "13700000003")
            #expect(try await db.dispute(open.dispute.number).parties.first?.mobile == "13700000004")
            // The statistics still count the dispute and its parties.
            #expect(try await db.disputes().count == 3)
            let partyRows = try await db.writer.read { d in
                try Int.fetchOne(d, sql: "SELECT count(*) FROM party WHERE anonymised_at IS NOT NULL") ?? 0
            }
            #expect(partyRows == 2)
            let audit = try #require(try await db.auditEntries().first)
            #expect(audit.action == "retention.run" && audit.role == "system")
            #expect(audit.summary.contains("2 parties of 1 disputes"))

            // A second run finds nothing more, and says so.
            let again = try await db.applyRetention(months: 24, dryRun: false)
            #expect(again.parties == 0)
            // A shorter period reaches the more recent dispute too.
            #expect(try await db.applyRetention(months: 12, dryRun: false).parties == 1)
            await #expect(throws: MediationError.self) { try await db.applyRetention(months: 0, dryRun: true) }
        }
    }
}

@Suite struct StoreFileModeTests {
    private func mode(_ path: String) -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0o7777 }
        return info.st_mode & 0o777
    }

    @Test func theDatabaseAndItsWALAreNeverReadableByOthers() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("mediation.sqlite")
        let db = try AppDatabase.open(path: path)
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室"))
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file) missing")
            #expect(mode(file) & 0o027 == 0, "\(file) has mode \(String(mode(file), radix: 8))")
        }
    }

    @Test func aFileLeftWorldReadableIsNarrowedAtOpen() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("mediation.sqlite")
        _ = try AppDatabase.open(path: path)
        #expect(chmod(path, 0o666) == 0)
        #expect(mode(path) == 0o666)
        let db = try AppDatabase.open(path: path)
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室"))
        #expect(mode(path) == 0o640)
        #expect(mode(path + "-wal") & 0o027 == 0)
    }

    /// `store.path` naming a folder (here one like /tmp, mode 1777) once narrowed the folder to 0750.
    @Test func aFolderAtTheStorePathIsRefusedAndKeepsItsMode() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let shared = dir.file("shared")
        #expect(mkdir(shared, 0o755) == 0 && chmod(shared, 0o1777) == 0)
        let error = #expect(throws: MediationError.self) { try AppDatabase.open(path: shared) }
        #expect(error?.kind == .invalidInput)
        #expect(error?.message.contains("store.path \(shared) is a folder") == true, "\(String(describing: error))")
        #expect(error?.message.contains("\(shared)/mediation.sqlite") == true)
        var info = stat()
        #expect(stat(shared, &info) == 0 && info.st_mode & 0o7777 == 0o1777, "the folder keeps its mode")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: shared))?.isEmpty == true, "nothing made in it")
    }

    /// A symbolic link at the store's path (or beside it, for the log) once had its target narrowed.
    @Test func aSymbolicLinkAtTheStorePathIsRefusedAndItsTargetKeepsItsMode() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let target = dir.file("target.txt")
        #expect(FileManager.default.createFile(atPath: target, contents: Data("notes\n".utf8)))
        #expect(chmod(target, 0o644) == 0)
        let link = dir.file("link.sqlite")
        #expect(symlink("target.txt", link) == 0)
        let error = #expect(throws: MediationError.self) { try AppDatabase.open(path: link) }
        #expect(error?.kind == .invalidInput)
        #expect(error?.message.contains("is a symbolic link to target.txt") == true, "\(String(describing: error))")
        #expect(mode(target) == 0o644)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "notes\n")

        // The log beside a real store: SQLite would write through the link.
        let store = dir.file("mediation.sqlite")
        _ = try AppDatabase.open(path: store)
        try? FileManager.default.removeItem(atPath: store + "-wal")
        #expect(symlink("target.txt", store + "-wal") == 0)
        let beside = #expect(throws: MediationError.self) { try AppDatabase.open(path: store) }
        #expect(
            beside?.message.contains("\(store)-wal beside it is a symbolic link") == true,
            "\(String(describing: beside))")
        #expect(mode(target) == 0o644)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "notes\n")
    }

    /// A store file the daemon's user did not make (another user's) keeps the mode its owner gave it.
    @Test(.enabled(if: getuid() == 0, "needs root to give a file to another user"))
    func aFileOfAnotherUserKeepsItsMode() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("mediation.sqlite")
        _ = try AppDatabase.open(path: path)
        let nobody = try #require(getpwnam("nobody")).pointee.pw_uid
        #expect(chown(path, nobody, gid_t.max) == 0 && chmod(path, 0o644) == 0)
        let db = try AppDatabase.open(path: path)
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室"))
        #expect(mode(path) == 0o644)
    }
}

/// The intake form's key: the same form sent twice registers one dispute, and the second sending is answered with
/// it; the key is kept with the dispute in the file.
@Test func anIntakeFormSentTwiceRegistersOneDispute() async throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.file("mediation.sqlite")
    let actor = Actor(uid: 1001, user: "alice", isAdmin: false)
    let draft = Dispute(officeId: "jinshan", title: "双击登记", category: "noise")
    let first: DisputeDetail
    do {
        let db = try AppDatabase.open(path: path)
        _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室", disputePrefix: "JS"))
        first = try await db.openDispute(
            draft, parties: [Party(name: "李明", side: .applicant)], categories: Dispute.defaultCategories,
            actor: actor, intakeKey: "form-1")
        let again = try await db.openDispute(
            draft, parties: [Party(name: "李明", side: .applicant)], categories: Dispute.defaultCategories,
            actor: actor, intakeKey: "form-1")
        #expect(again.dispute.number == first.dispute.number && again.parties.count == 1)
        let other = try await db.openDispute(
            draft, categories: Dispute.defaultCategories, actor: actor, intakeKey: "form-2")
        #expect(other.dispute.number != first.dispute.number)
    }
    let reopened = try AppDatabase.open(path: path)
    let third = try await reopened.openDispute(
        draft, categories: Dispute.defaultCategories, actor: actor, intakeKey: "form-1")
    #expect(third.dispute.number == first.dispute.number)
    let count = try await reopened.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM dispute") }
    #expect(count == 2)
}
