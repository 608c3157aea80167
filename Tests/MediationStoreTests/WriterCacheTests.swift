import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationStore

/// The writer keeps experts, leave, extra hours, conflicts, offices and policies between bookings. A stale entry
/// would let a booking through that the store forbids, so every kind of change must reach the very next booking:
/// through the API, through another connection, and not at all when it was rolled back.
struct WriterCacheTests {
    private let actor = Actor(uid: 1000, user: "staff", isAdmin: false)
    private let start = Date(timeIntervalSince1970: 1_796_000_400)  // Monday 2026-11-30 01:00 UTC

    private struct Fixture {
        let db: AppDatabase
        let trio: [Int64]
        let disputes: [String]
        let parties: [Int64]
    }

    /// An office open all day, one trio of experts and `count` open disputes, each with one party.
    private func fixture(_ path: String, count: Int = 8) async throws -> Fixture {
        let db = try AppDatabase.open(path: path, clock: FixedWallClock(start))
        let allDay = try WeeklyWindow.parseList("mon-sun 00:00-24:00", field: "hours")
        _ = try await db.createOffice(Office(id: "hq", name: "金山警务室", workingHours: allDay))
        var trio: [Int64] = []
        for (name, role, email) in [
            ("王建国", ExpertRole.legalOfficer, "w@example.org"), ("Anna", .lawyer, "a@example.de"),
            ("周敏", .communityStaff, "z@example.org"),
        ] {
            trio.append(
                try await db.createExpert(
                    Expert(
                        name: name, role: role, offices: ["hq"], email: email, maxSessionsPerDay: 8,
                        maxSessionsPerWeek: 30,
                        weeklyHours: allDay)
                ).id)
        }
        var disputes: [String] = []
        var parties: [Int64] = []
        for i in 0..<count {
            let detail = try await db.openDispute(
                Dispute(officeId: "hq", title: "噪音 \(i)", category: "noise"),
                parties: [Party(name: "李\(i)", side: .applicant, organisation: "物业\(i)")], categories: ["noise"],
                actor: actor)
            disputes.append(detail.dispute.number)
            parties.append(detail.parties[0].id)
        }
        return Fixture(db: db, trio: trio, disputes: disputes, parties: parties)
    }

    /// Day `n` after the fixture's clock, at 10:00 UTC.
    private func day(_ n: Int) -> Date { start.addingTimeInterval(Double(n) * 86400 + 9 * 3600) }

    private func book(_ f: Fixture, _ dispute: Int, at: Date) async throws -> Session {
        try await f.db.book(
            dispute: f.disputes[dispute], start: at, durationMinutes: 60, panel: f.trio, policy: nil,
            rules: SchedulingRules(), room: nil, actor: actor)
    }

    /// The message of the error that refuses the booking.
    private func refusal(_ f: Fixture, _ dispute: Int, at: Date) async -> String {
        do {
            _ = try await book(f, dispute, at: at)
            return "booked"
        } catch let error as MediationError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    private func sessionCount(_ f: Fixture) async throws -> Int {
        try await f.db.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM session") ?? 0 }
    }

    @Test func everyChangeTheReCheckReadsReachesTheNextBooking() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let f = try await fixture(dir.file("cache.sqlite"))
        let (w, a, z) = (String(f.trio[0]), String(f.trio[1]), String(f.trio[2]))

        // Each step: a booking that warms the cache, a change, and a booking the change must stop.
        _ = try await book(f, 0, at: day(1))
        _ = try await f.db.setExpertActive(w, false)
        #expect(await refusal(f, 1, at: day(2)).contains("王建国 (#\(w)) is inactive"))
        _ = try await f.db.setExpertActive(w, true)

        _ = try await book(f, 1, at: day(2))
        _ = try await f.db.addSpan(
            .timeOff, expert: a, interval: Interval(start: day(3).addingTimeInterval(-3600), end: day(4)), note: "leave"
        )
        #expect(await refusal(f, 2, at: day(3)).contains("Anna (#\(a)) is not free in the window: on leave"))

        _ = try await book(f, 2, at: day(5))
        _ = try await f.db.updateExpert(z) {
            $0.weeklyHours = try WeeklyWindow.parseList("mon 00:00-01:00", field: "h")
        }
        #expect(await refusal(f, 3, at: day(6)).contains("周敏 (#\(z)) is not free in the window: no hours"))
        _ = try await f.db.addSpan(
            .extra, expert: z, interval: Interval(start: day(6).addingTimeInterval(-3600), end: day(7)), note: nil)
        _ = try await book(f, 3, at: day(6))  // extra hours, added after the cache was warm, open the slot again

        _ = try await f.db.addConflict(expert: z, partyId: f.parties[4], organisation: nil, reason: "neighbour")
        #expect(
            await refusal(f, 4, at: day(6).addingTimeInterval(7200)).contains("周敏 (#\(z)) has a conflict of interest"))

        _ = try await f.db.updateOffice("hq") {
            $0.workingHours = try WeeklyWindow.parseList("sun 08:00-09:00", field: "h")
        }
        #expect(
            await refusal(f, 5, at: day(6).addingTimeInterval(4 * 3600)).contains(
                "is outside the office hours of hq (sun 08:00-09:00)"))
        _ = try await f.db.updateOffice("hq") {
            $0.workingHours = try WeeklyWindow.parseList("mon-sun 00:00-24:00", field: "h")
        }
        _ = try await book(f, 5, at: day(6).addingTimeInterval(4 * 3600))

        _ = try await f.db.setPolicy(
            PanelPolicy(name: "standard", requirements: [PanelRequirement(role: .lawyer, count: 3)]))
        #expect(
            await refusal(f, 6, at: day(6).addingTimeInterval(6 * 3600)).contains(
                "cannot all sit on a panel of 3 × lawyer"))

        #expect(try await sessionCount(f) == 5)
    }

    /// The clash query runs only once the finder has refused; a clash is still what a refused booking hears first,
    /// whatever else is wrong with it.
    @Test func aClashIsNamedBeforeAnyOtherReason() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let f = try await fixture(dir.file("cache.sqlite"))
        let first = try await book(f, 0, at: day(1))
        #expect(await refusal(f, 1, at: day(1)).contains("is already booked for session #\(first.id)"))
        // Twenty minutes after it ends still clashes, through the 30-minute buffer.
        #expect(await refusal(f, 1, at: day(1).addingTimeInterval(4800)).contains("#\(first.id)"))
        _ = try await f.db.setExpertActive(String(f.trio[2]), false)
        let both = await refusal(f, 1, at: day(1))
        #expect(both.contains("is already booked for session #\(first.id)"), "\(both)")
        #expect(await refusal(f, 1, at: day(2)).contains("is inactive"))
        #expect(try await sessionCount(f) == 1)
    }

    @Test func aChangeMadeByAnotherConnectionReachesTheNextBooking() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("cache.sqlite")
        let f = try await fixture(path)
        _ = try await book(f, 0, at: day(1))
        // An administrator's sqlite3: another connection, and no observer of ours sees it.
        do {
            let other = try DatabaseQueue(path: path)
            try await other.write { db in
                try db.execute(sql: "UPDATE expert SET active = 0 WHERE id = ?", arguments: [f.trio[1]])
            }
        }
        #expect(await refusal(f, 1, at: day(2)).contains("Anna (#\(f.trio[1])) is inactive"))
        #expect(try await sessionCount(f) == 1)
    }

    @Test func whatARolledBackTransactionChangedIsNotKept() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let f = try await fixture(dir.file("cache.sqlite"), count: 1)
        let id = f.trio[0]
        struct Undo: Error {}
        // Inside a transaction that then fails: the change is read through the cache, then rolled back.
        await #expect(throws: Undo.self) {
            try await f.db.writer.write { db in
                try db.execute(sql: "UPDATE expert SET name = 'Changed' WHERE id = ?", arguments: [id])
                #expect(try f.db.writerCache.experts([id], db)[id]?.name == "Changed")
                throw Undo()
            }
        }
        let name = try await f.db.writer.write { db in try f.db.writerCache.experts([id], db)[id]?.name }
        #expect(name == "王建国")
        // And a kept change replaces what was cached before it.
        _ = try await f.db.updateExpert(String(id)) { $0.name = "王建华" }
        let renamed = try await f.db.writer.write { db in try f.db.writerCache.experts([id], db)[id]?.name }
        #expect(renamed == "王建华")
    }
}
