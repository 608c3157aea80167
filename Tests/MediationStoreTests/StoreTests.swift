import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationStore

// MARK: - Running every test on both kinds of store

/// The two stores every test runs on: an in-memory queue and a WAL pool in a fresh temporary directory.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, file
    var testDescription: String { rawValue }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("mediation-store-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` on a new, empty store of `kind`.
func withStore(_ kind: StoreKind, _ body: (AppDatabase) async throws -> Void) async throws {
    switch kind {
    case .memory:
        try await body(try AppDatabase.inMemory())
    case .file:
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.file("mediation.sqlite"))
        #expect(db.path == dir.file("mediation.sqlite"))
        try await body(db)
    }
}

// MARK: - Fixtures

private func time(_ text: String) throws -> TimeOfDay { try #require(TimeOfDay(parsing: text)) }

private func window(_ day: Weekday, _ start: String, _ end: String) throws -> WeeklyWindow {
    WeeklyWindow(weekday: day, start: try time(start), end: try time(end))
}

private func lawyer(
    _ name: String = "王芳", mobile: String? = "13800138000", email: String? = nil, offices: [String] = ["jinshan"]
) -> Expert {
    Expert(name: name, role: .lawyer, offices: offices, email: email, mobile: mobile)
}

/// Stores the offices jinshan and xinhua.
private func seedOffices(_ db: AppDatabase) async throws {
    _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室"))
    _ = try await db.createOffice(Office(id: "xinhua", name: "新华警务室", timeZone: "Asia/Shanghai"))
}

// MARK: - Offices

@Suite struct OfficeStoreTests {
    @Test(arguments: StoreKind.allCases)
    func createListShowUpdate(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            #expect(try await db.offices().isEmpty)
            let created = try await db.createOffice(
                Office(id: " JinShan ", name: " 金山警务室 ", address: "金山路 1 号", defaultSessionMinutes: 60))
            #expect(created.id == "jinshan")
            #expect(created.name == "金山警务室")
            _ = try await db.createOffice(Office(id: "anting", name: "安亭警务室", timeZone: "Asia/Urumqi"))

            let list = try await db.offices()
            #expect(list.map(\.id) == ["anting", "jinshan"])

            let shown = try await db.office("jinshan")
            #expect(shown == created)
            #expect(shown.address == "金山路 1 号")
            #expect(shown.defaultSessionMinutes == 60)
            #expect(shown.workingHours == Office.defaultWorkingHours.sorted())
            #expect(try await db.office("JINSHAN").id == "jinshan")

            let updated = try await db.updateOffice("jinshan") { o in
                o.name = "金山新警务室"
                o.timeZone = "Europe/Berlin"
                o.id = "renamed"  // the id never changes
            }
            #expect(updated.id == "jinshan")
            #expect(updated.name == "金山新警务室")
            #expect(try await db.office("jinshan") == updated)
            #expect(try await db.offices().map(\.id) == ["anting", "jinshan"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func badZoneIsRejectedAndNothingIsWritten(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let bad = await #expect(throws: MediationError.self) {
                try await db.createOffice(Office(id: "jinshan", name: "金山", timeZone: "Asia/Shangai"))
            }
            #expect(bad?.kind == .invalidInput)
            #expect(bad?.message.contains("Asia/Shangai") == true)
            #expect(try await db.offices().isEmpty)

            let before = try await db.createOffice(Office(id: "jinshan", name: "金山"))
            let badUpdate = await #expect(throws: MediationError.self) {
                try await db.updateOffice("jinshan") { o in
                    o.name = "changed"
                    o.timeZone = "Mars/Olympus"
                }
            }
            #expect(badUpdate?.kind == .invalidInput)
            #expect(try await db.office("jinshan") == before)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func duplicateIdIsAConflict(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let first = try await db.createOffice(Office(id: "jinshan", name: "金山"))
            let error = await #expect(throws: MediationError.self) {
                try await db.createOffice(Office(id: "JinShan", name: "另一个"))
            }
            #expect(error?.kind == .conflict)
            #expect(error?.message.contains("jinshan") == true)
            #expect(try await db.offices() == [first])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func unknownOfficeNamesTheKnownOnes(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let none = await #expect(throws: MediationError.self) { try await db.office("nowhere") }
            #expect(none?.kind == .notFound)
            #expect(none?.message.contains("nowhere") == true)

            try await seedOffices(db)
            let error = await #expect(throws: MediationError.self) { try await db.office("nowhere") }
            #expect(error?.kind == .notFound)
            #expect(error?.message.contains("nowhere") == true)
            #expect(error?.message.contains("jinshan") == true)
            #expect(error?.message.contains("xinhua") == true)

            let update = await #expect(throws: MediationError.self) {
                try await db.updateOffice("nowhere") { $0.name = "x" }
            }
            #expect(update?.kind == .notFound)
            #expect(update?.message.contains("jinshan") == true)
        }
    }

    /// `office(_:)` accepts any case of the id; so must an update of the same office.
    @Test(arguments: StoreKind.allCases)
    func updateFindsTheOfficeInAnyCase(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            #expect(try await db.office("JinShan").id == "jinshan")
            let updated = try await db.updateOffice("JinShan") { $0.name = "金山新" }
            #expect(updated.id == "jinshan")
            #expect(try await db.office("jinshan").name == "金山新")
        }
    }
}

// MARK: - Experts

@Suite struct ExpertStoreTests {
    @Test(arguments: StoreKind.allCases)
    func createAssignsIdsAndNormalises(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            let a = try await db.createExpert(
                Expert(
                    id: 99, name: " 王芳 ", role: .lawyer, specialties: ["Family Law"], offices: ["JinShan"],
                    mobile: "138 0013 8000"))
            #expect(a.id > 0)
            #expect(a.id != 99)
            #expect(a.name == "王芳")
            #expect(a.mobile == "13800138000")
            #expect(a.offices == ["jinshan"])
            #expect(a.specialties == ["family-law"])
            let b = try await db.createExpert(lawyer("李强", mobile: "13900139000"))
            #expect(b.id > a.id)
            #expect(try await db.experts().map(\.id) == [a.id, b.id])
            #expect(try await db.expert(String(a.id)) == a)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func unknownOfficeIsNamedAndNothingIsWritten(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            let error = await #expect(throws: MediationError.self) {
                try await db.createExpert(lawyer(offices: ["jinshan", "nowhere"]))
            }
            #expect(error?.kind == .invalidInput)
            #expect(error?.message.contains("'nowhere'") == true)
            #expect(error?.message.contains("'jinshan'") == false)
            #expect(try await db.experts().isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func duplicateMobileNamesTheOtherExpert(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            let first = try await db.createExpert(lawyer("王芳", mobile: "13800138000"))
            let countBefore = try await db.experts().count
            let error = await #expect(throws: MediationError.self) {
                try await db.createExpert(lawyer("张伟", mobile: "+86 138-0013-8000"))
            }
            #expect(error?.kind == .conflict)
            #expect(error?.message.contains("#\(first.id)") == true)
            #expect(error?.message.contains("王芳") == true)
            #expect(try await db.experts().count == countBefore)
            #expect(try await db.experts() == [first])

            let email = try await db.createExpert(lawyer("李强", mobile: nil, email: "li@example.org"))
            let emailClash = await #expect(throws: MediationError.self) {
                try await db.createExpert(lawyer("李四", mobile: nil, email: "LI@example.org"))
            }
            #expect(emailClash?.kind == .conflict)
            #expect(emailClash?.message.contains("#\(email.id)") == true)
            #expect(try await db.experts().count == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func updateKeepsTheIdAndValidates(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            let stored = try await db.createExpert(lawyer())
            let other = try await db.createExpert(lawyer("李强", mobile: "13900139000"))

            let updated = try await db.updateExpert(String(stored.id)) { e in
                e.id = 12345
                e.name = "王芳芳"
                e.offices = ["xinhua", "JINSHAN"]
                e.maxSessionsPerWeek = 3
            }
            #expect(updated.id == stored.id)
            #expect(updated.name == "王芳芳")
            #expect(updated.offices == ["jinshan", "xinhua"])
            #expect(try await db.expert(String(stored.id)) == updated)
            #expect(try await db.experts().count == 2)

            let badChanges: [@Sendable (inout Expert) -> Void] = [
                { $0.maxSessionsPerDay = -1 }, { $0.maxSessionsPerWeek = -1 },
            ]
            for change in badChanges {
                let error = await #expect(throws: MediationError.self) {
                    try await db.updateExpert(String(stored.id)) { e in
                        e.name = "不应写入"
                        change(&e)
                    }
                }
                #expect(error?.kind == .invalidInput)
                #expect(error?.message.contains("below 0") == true)
                #expect(try await db.expert(String(stored.id)) == updated)
            }

            let office = await #expect(throws: MediationError.self) {
                try await db.updateExpert(String(stored.id)) { $0.offices = ["nowhere"] }
            }
            #expect(office?.kind == .invalidInput)
            #expect(office?.message.contains("nowhere") == true)

            let clash = await #expect(throws: MediationError.self) {
                try await db.updateExpert(String(stored.id)) { $0.mobile = other.mobile }
            }
            #expect(clash?.kind == .conflict)
            #expect(clash?.message.contains("#\(other.id)") == true)
            #expect(try await db.expert(String(stored.id)) == updated)

            let missing = await #expect(throws: MediationError.self) {
                try await db.updateExpert("999") { $0.name = "x" }
            }
            #expect(missing?.kind == .notFound)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func findByEveryKindOfReference(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            let wang = try await db.createExpert(lawyer("王芳", mobile: "13800138000", email: "wang.fang@example.org"))
            let li = try await db.createExpert(lawyer("李强", mobile: nil, email: "li@example.org"))

            #expect(try await db.expert(String(wang.id)) == wang)
            #expect(try await db.expert("#\(li.id)") == li)
            #expect(try await db.expert("+86 138 0013 8000") == wang)
            #expect(try await db.expert("138-0013-8000") == wang)
            #expect(try await db.expert("Wang.Fang@Example.ORG") == wang)
            #expect(try await db.expert("li@example.org") == li)
            #expect(try await db.expert("王芳") == wang)
            #expect(try await db.expert(" 李强 ") == li)

            let missing = await #expect(throws: MediationError.self) { try await db.expert("赵六") }
            #expect(missing?.kind == .notFound)
            #expect(missing?.message.contains("赵六") == true)
            let empty = await #expect(throws: MediationError.self) { try await db.expert("  ") }
            #expect(empty?.kind == .invalidInput)

            let twin = try await db.createExpert(
                Expert(name: "王芳", role: .retiree, servesAllOffices: true, mobile: "13700137000"))
            let ambiguous = await #expect(throws: MediationError.self) { try await db.expert("王芳") }
            #expect(ambiguous?.kind == .invalidInput)
            #expect(ambiguous?.message.contains("#\(wang.id) (") == true)
            #expect(ambiguous?.message.contains("#\(twin.id) (") == true)
            // The two are still found by their other references.
            #expect(try await db.expert("13700137000") == twin)
            #expect(try await db.expert(String(wang.id)) == wang)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func filters(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            _ = try await db.createOffice(Office(id: "anting", name: "安亭"))
            let a = try await db.createExpert(
                Expert(
                    name: "王芳", role: .lawyer, specialties: ["Family Law"], offices: ["jinshan"],
                    mobile: "13800138000"))
            let b = try await db.createExpert(
                Expert(
                    name: "李强", role: .retiree, specialties: ["neighbours"], servesAllOffices: true,
                    mobile: "13900139000"))
            let c = try await db.createExpert(
                Expert(
                    name: "张伟", role: .legalOfficer, specialties: ["family_law", "traffic"], offices: ["xinhua"],
                    mobile: "13700137000", active: false))

            #expect(try await db.experts().map(\.id) == [a.id, b.id, c.id])
            #expect(try await db.experts(ExpertFilter(role: .lawyer)).map(\.id) == [a.id])
            #expect(try await db.experts(ExpertFilter(role: .communityStaff)).isEmpty)
            #expect(try await db.experts(ExpertFilter(office: "jinshan")).map(\.id) == [a.id, b.id])
            #expect(try await db.experts(ExpertFilter(office: "xinhua")).map(\.id) == [b.id, c.id])
            // An expert serving all offices counts for an office with no one else.
            #expect(try await db.experts(ExpertFilter(office: "anting")).map(\.id) == [b.id])
            #expect(try await db.experts(ExpertFilter(office: "JinShan")).map(\.id) == [a.id, b.id])
            #expect(try await db.experts(ExpertFilter(specialty: "Family Law")).map(\.id) == [a.id, c.id])
            #expect(try await db.experts(ExpertFilter(specialty: " family-LAW ")).map(\.id) == [a.id, c.id])
            #expect(try await db.experts(ExpertFilter(specialty: "family")).isEmpty)
            #expect(try await db.experts(ExpertFilter(active: true)).map(\.id) == [a.id, b.id])
            #expect(try await db.experts(ExpertFilter(active: false)).map(\.id) == [c.id])
            #expect(
                try await db.experts(
                    ExpertFilter(role: .legalOfficer, office: "xinhua", specialty: "traffic", active: false)
                )
                .map(\.id) == [c.id])
            #expect(try await db.experts(ExpertFilter(role: .lawyer, office: "xinhua")).isEmpty)

            let unknown = await #expect(throws: MediationError.self) {
                try await db.experts(ExpertFilter(office: "nowhere"))
            }
            #expect(unknown?.kind == .notFound)
            #expect(unknown?.message.contains("jinshan") == true)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func deactivateAndReactivate(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            let stored = try await db.createExpert(lawyer())
            #expect(stored.active)
            let off = try await db.setExpertActive("王芳", false)
            #expect(off.active == false)
            #expect(off.id == stored.id)
            #expect(try await db.expert(String(stored.id)).active == false)
            #expect(try await db.experts(ExpertFilter(active: true)).isEmpty)
            let on = try await db.setExpertActive(String(stored.id), true)
            #expect(on == stored)
            #expect(try await db.experts(ExpertFilter(active: true)).map(\.id) == [stored.id])

            let missing = await #expect(throws: MediationError.self) { try await db.setExpertActive("999", false) }
            #expect(missing?.kind == .notFound)
        }
    }
}

// MARK: - Time off, extra availability, availability

@Suite struct AvailabilityStoreTests {
    let zone = Zone.shanghai

    /// Monday 2026-12-07 in Asia/Shanghai.
    func monday() throws -> LocalDate {
        let day = try #require(LocalDate(year: 2026, month: 12, day: 7))
        try #require(day.weekday == .monday)
        return day
    }

    func at(_ day: LocalDate, _ clock: String) throws -> Date { zone.instant(day, try time(clock)) }

    @Test(arguments: StoreKind.allCases)
    func timeOffAddListRemove(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            let wang = try await db.createExpert(lawyer())
            let li = try await db.createExpert(lawyer("李强", mobile: "13900139000"))
            let mon = try monday()
            let first = Interval(start: try at(mon, "09:00"), end: try at(mon, "12:00"))
            let second = Interval(
                start: try at(mon.adding(days: 14), "00:00"), end: try at(mon.adding(days: 16), "00:00"))

            let a = try await db.addSpan(.timeOff, expert: "王芳", interval: first, note: "  体检 ")
            #expect(a.expertId == wang.id)
            #expect(a.note == "体检")
            #expect(a.interval == first)
            let b = try await db.addSpan(.timeOff, expert: String(wang.id), interval: second, note: "  ")
            #expect(b.note == nil)
            #expect(b.id != a.id)

            #expect(try await db.spans(.timeOff, expert: "王芳") == [a, b])
            #expect(try await db.spans(.extra, expert: "王芳").isEmpty)
            #expect(try await db.spans(.timeOff, expert: "李强").isEmpty)
            let firstWeek = Interval(start: try at(mon, "00:00"), end: try at(mon.adding(days: 7), "00:00"))
            #expect(try await db.spans(.timeOff, expert: "王芳", overlapping: firstWeek) == [a])

            // Ends before it starts.
            let backwards = await #expect(throws: MediationError.self) {
                try await db.addSpan(
                    .timeOff, expert: "王芳", interval: Interval(start: first.end, end: first.start), note: nil)
            }
            #expect(backwards?.kind == .invalidInput)
            let unknown = await #expect(throws: MediationError.self) {
                try await db.addSpan(.timeOff, expert: "赵六", interval: first, note: nil)
            }
            #expect(unknown?.kind == .notFound)

            // A wrong id, an id of the other kind, or another expert's span: not found, nothing removed.
            let wrong = await #expect(throws: MediationError.self) {
                try await db.removeSpan(.timeOff, expert: "王芳", id: b.id + 100)
            }
            #expect(wrong?.kind == .notFound)
            let otherExpert = await #expect(throws: MediationError.self) {
                try await db.removeSpan(.timeOff, expert: String(li.id), id: a.id)
            }
            #expect(otherExpert?.kind == .notFound)
            let otherKind = await #expect(throws: MediationError.self) {
                try await db.removeSpan(.extra, expert: "王芳", id: a.id)
            }
            #expect(otherKind?.kind == .notFound)
            #expect(try await db.spans(.timeOff, expert: "王芳") == [a, b])

            try await db.removeSpan(.timeOff, expert: "王芳", id: a.id)
            #expect(try await db.spans(.timeOff, expert: "王芳") == [b])
            let again = await #expect(throws: MediationError.self) {
                try await db.removeSpan(.timeOff, expert: "王芳", id: a.id)
            }
            #expect(again?.kind == .notFound)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func availabilityIsWeeklyHoursMinusTimeOffPlusExtra(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            var draft = lawyer()
            draft.weeklyHours = [try window(.monday, "09:00", "12:00"), try window(.wednesday, "19:00", "21:00")]
            let wang = try await db.createExpert(draft)
            let mon = try monday()
            let wed = mon.adding(days: 2)
            let sat = mon.adding(days: 5)
            let week = Interval(start: try at(mon, "00:00"), end: try at(mon.adding(days: 7), "00:00"))

            let (expert, plain) = try await db.availability(expert: "王芳", range: week)
            #expect(expert == wang)
            #expect(
                plain == [
                    Interval(start: try at(mon, "09:00"), end: try at(mon, "12:00")),
                    Interval(start: try at(wed, "19:00"), end: try at(wed, "21:00")),
                ])

            _ = try await db.addSpan(
                .timeOff, expert: "王芳", interval: Interval(start: try at(mon, "10:00"), end: try at(mon, "11:00")),
                note: "会议")
            _ = try await db.addSpan(
                .timeOff, expert: "王芳",
                interval: Interval(start: try at(wed, "00:00"), end: try at(wed.adding(days: 1), "00:00")),
                note: nil)
            _ = try await db.addSpan(
                .extra, expert: "王芳", interval: Interval(start: try at(sat, "14:00"), end: try at(sat, "16:00")),
                note: "周末加班")
            // Extra availability outside the range is not counted.
            _ = try await db.addSpan(
                .extra, expert: "王芳",
                interval: Interval(
                    start: try at(mon.adding(days: 8), "14:00"), end: try at(mon.adding(days: 8), "16:00")),
                note: nil)

            let (_, free) = try await db.availability(expert: String(wang.id), range: week)
            #expect(
                free == [
                    Interval(start: try at(mon, "09:00"), end: try at(mon, "10:00")),
                    Interval(start: try at(mon, "11:00"), end: try at(mon, "12:00")),
                    Interval(start: try at(sat, "14:00"), end: try at(sat, "16:00")),
                ])

            let backwards = await #expect(throws: MediationError.self) {
                try await db.availability(expert: "王芳", range: Interval(start: week.end, end: week.start))
            }
            #expect(backwards?.kind == .invalidInput)
            let tooLong = await #expect(throws: MediationError.self) {
                try await db.availability(
                    expert: "王芳", range: Interval(start: week.start, end: week.start.addingTimeInterval(400 * 86400)))
            }
            #expect(tooLong?.kind == .invalidInput)
        }
    }
}

// MARK: - Roster import

@Suite struct RosterImportStoreTests {
    static let roster = """
        name,role,mobile,offices,specialties
        王芳,lawyer,13800138000,jinshan,family
        李强,退休干部,139 0013 9000,all,
        """

    func rows(_ csv: String) throws -> [Roster.Row] { try Roster.read(Array(csv.utf8)) }

    @Test(arguments: StoreKind.allCases)
    func dryRunThenImportThenUnchangedThenUpdated(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)

            let dry = try await db.importRoster(try rows(Self.roster), dryRun: true)
            #expect(dry == ImportReport(created: [2, 3], updated: [], unchanged: [], dryRun: true))
            #expect(try await db.experts().isEmpty)

            let real = try await db.importRoster(try rows(Self.roster), dryRun: false)
            #expect(real == ImportReport(created: [2, 3], updated: [], unchanged: [], dryRun: false))
            let stored = try await db.experts()
            #expect(stored.map(\.name) == ["王芳", "李强"])
            #expect(stored.map(\.mobile) == ["13800138000", "13900139000"])
            #expect(stored[1].servesAllOffices)
            #expect(stored[1].role == .retiree)

            let again = try await db.importRoster(try rows(Self.roster), dryRun: false)
            #expect(again == ImportReport(created: [], updated: [], unchanged: [2, 3], dryRun: false))
            #expect(try await db.experts() == stored)

            let changed = """
                name,role,mobile,offices,specialties
                王芳,lawyer,13800138000,jinshan,family
                李强,retiree,13900139000,all,labour|neighbours
                """
            let dryChange = try await db.importRoster(try rows(changed), dryRun: true)
            #expect(dryChange == ImportReport(created: [], updated: [3], unchanged: [2], dryRun: true))
            #expect(try await db.experts() == stored)

            let update = try await db.importRoster(try rows(changed), dryRun: false)
            #expect(update == ImportReport(created: [], updated: [3], unchanged: [2], dryRun: false))
            let after = try await db.experts()
            #expect(after.map(\.id) == stored.map(\.id))
            #expect(after[0] == stored[0])
            #expect(after[1].specialties == ["labour", "neighbours"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func unknownOfficeFailsTheWholeImport(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            _ = try await db.importRoster(try rows(Self.roster), dryRun: false)
            let before = try await db.experts()

            let bad = """
                name,role,mobile,offices,specialties
                王芳,lawyer,13800138000,jinshan,changed
                张伟,lawyer,13700137000,nowhere,
                赵六,lawyer,13600136000,xinhua,
                """
            for dryRun in [true, false] {
                let error = await #expect(throws: MediationError.self) {
                    try await db.importRoster(try rows(bad), dryRun: dryRun)
                }
                #expect(error?.kind == .invalidInput)
                #expect(error?.details.count == 1)
                #expect(error?.details.first?.hasPrefix("line 3:") == true)
                #expect(error?.details.first?.contains("nowhere") == true)
                #expect(try await db.experts() == before)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func clashWithAnotherExpertFailsTheWholeImport(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            try await seedOffices(db)
            let wang = try await db.createExpert(lawyer("王芳", mobile: "13800138000"))
            let li = try await db.createExpert(lawyer("李强", mobile: "13900139000", email: "li@example.org"))
            // Line 2 is new; line 3 matches 王芳 by mobile but takes 李强's email.
            let csv = """
                name,role,mobile,email,offices
                赵六,lawyer,13600136000,,jinshan
                王芳,lawyer,13800138000,li@example.org,jinshan
                """
            let error = await #expect(throws: MediationError.self) {
                try await db.importRoster(try rows(csv), dryRun: false)
            }
            #expect(error?.kind == .invalidInput)
            #expect(error?.details.count == 1)
            #expect(error?.details.first?.hasPrefix("line 3:") == true)
            #expect(error?.details.first?.contains("#\(li.id)") == true)
            #expect(try await db.experts() == [wang, li])
        }
    }
}

// MARK: - The database itself

@Suite struct DatabaseFileTests {
    @Test(arguments: StoreKind.allCases)
    func schemaVersionIsTheNewestMigration(_ kind: StoreKind) async throws {
        try await withStore(kind) { db in
            let newest = try #require(Migrations.migrator.migrations.last)
            #expect(try await db.schemaVersion() == newest)
            #expect(newest == AppDatabase.latestSchemaVersion)
            #expect(newest == "v20-intake-key")
        }
    }

    @Test func reopeningTheFileFindsTheData() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("nested/dir/mediation.sqlite")
        var wangId: Int64 = 0
        do {
            let db = try AppDatabase.open(path: path)
            try await seedOffices(db)
            wangId = try await db.createExpert(lawyer()).id
            let mon = try #require(LocalDate(year: 2026, month: 12, day: 7))
            _ = try await db.addSpan(
                .timeOff, expert: "王芳",
                interval: Interval(
                    start: Zone.shanghai.instant(mon, .midnight),
                    end: Zone.shanghai.instant(mon.adding(days: 1), .midnight)),
                note: "休假")
        }
        let reopened = try AppDatabase.open(path: path)
        #expect(try await reopened.offices().map(\.id) == ["jinshan", "xinhua"])
        let wang = try await reopened.expert("13800138000")
        #expect(wang.id == wangId)
        #expect(wang.name == "王芳")
        #expect(try await reopened.spans(.timeOff, expert: "王芳").map(\.note) == ["休假"])
        #expect(try await reopened.schemaVersion() == AppDatabase.latestSchemaVersion)
        // Migrating again on open is harmless, and ids keep counting up.
        let li = try await reopened.createExpert(lawyer("李强", mobile: "13900139000"))
        #expect(li.id > wangId)
    }

    @Test func corruptFileIsUnavailableWithPathAndBackupAdvice() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("mediation.sqlite")
        var garbage = [UInt8](repeating: 0, count: 8192)
        var state: UInt32 = 0x1234_5678
        for i in garbage.indices {
            state = state &* 1_103_515_245 &+ 12345
            garbage[i] = UInt8(truncatingIfNeeded: state >> 16)
        }
        try Data(garbage).write(to: URL(fileURLWithPath: path))

        let error = #expect(throws: MediationError.self) { try AppDatabase.open(path: path) }
        #expect(error?.kind == .unavailable)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("backup") == true)
        // The damaged file is left exactly as it was.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(garbage))
    }

    @Test func databaseFileIsCreatedWithMode0640() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("mediation.sqlite")
        let db = try AppDatabase.open(path: path)
        try await seedOffices(db)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let mode = try #require(attributes[.posixPermissions] as? NSNumber).intValue
        #expect(mode == 0o640, "mode is \(String(mode, radix: 8))")
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o640)
        // SQLite gives the WAL the database's permissions.
        if FileManager.default.fileExists(atPath: path + "-wal") {
            let wal = try FileManager.default.attributesOfItem(atPath: path + "-wal")
            #expect((wal[.posixPermissions] as? NSNumber)?.intValue == 0o640)
        }
    }
}
