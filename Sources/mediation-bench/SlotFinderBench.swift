import Foundation
import MediationCore

/// The slot finder on generated pools of 200, 2,000 and 10,000 experts: p50 and p99 per request.
///
/// Each pool is seeded, so every run times the same instances. With an output folder, the first
/// `savedPerSize` searches of each size and their answers are written as JSON (see `Benchmarks/README.md`).
enum SlotFinderBench {
    static let sizes = [200, 2_000, 10_000]
    static let requestsPerSize = 50
    static let savedPerSize = 5

    static func run(outputDirectory: String?) throws -> [String] {
        var lines = [
            "slot finder: 60-day window, ~10 sessions per expert, panel legal_officer + lawyer + community_staff "
                + "(5 %, 2 %, 10 % of the pool) or variants (pinned, tagged seats, two of a role, a closed day), "
                + "\(requestsPerSize) requests per size"
        ]
        if let dir = outputDirectory {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        for size in sizes {
            var timings: [Double] = []
            var answered = 0
            var checksum = 0
            for (n, search) in searches(size: size).enumerated() {
                // One untimed run first so the first request does not pay for lazy set-up in Foundation.
                if n == 0 { _ = try SlotFinder.find(search) }
                let start = DispatchTime.now().uptimeNanoseconds
                let answer = try SlotFinder.find(search)
                timings.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
                if !answer.options.isEmpty { answered += 1 }
                checksum &+= answer.options.count
                if let dir = outputDirectory, n < savedPerSize {
                    try save(search, answer, size: size, request: n, in: dir)
                }
            }
            let sorted = timings.sorted()
            func pct(_ p: Double) -> Double {
                sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count - 1)).rounded()))]
            }
            lines.append(
                String(
                    format:
                        "slot finder, %6d experts: p50 %6.2f ms, p99 %6.2f ms (%d/%d requests with options, %d options)",
                    size, pct(50), pct(99), answered, requestsPerSize, checksum))
        }
        lines.append("targets: 2,000 experts p50 ≤ 5 ms; 10,000 experts p50 ≤ 25 ms")
        return lines
    }

    /// The first `savedPerSize` requests of each size and their answers, written without timing
    /// (`mediation-bench instances FOLDER`).
    static func writeInstances(sizes: [Int], to dir: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var written: [String] = []
        for size in sizes {
            for (n, search) in searches(size: size).prefix(savedPerSize).enumerated() {
                written.append(try save(search, try SlotFinder.find(search), size: size, request: n, in: dir))
            }
        }
        return written
    }

    /// Writes `slot-SSSSS-NN.search.json` and `.answer.json`; returns the common part of their names.
    @discardableResult
    static func save(_ search: SlotSearch, _ answer: SlotAnswer, size: Int, request n: Int, in dir: String) throws
        -> String
    {
        let name = String(format: "slot-%05d-%02d", size, n)
        try SlotFiles.encode(search).write(to: URL(fileURLWithPath: "\(dir)/\(name).search.json"))
        try SlotFiles.encode(answer).write(to: URL(fileURLWithPath: "\(dir)/\(name).answer.json"))
        return "\(dir)/\(name)"
    }

    /// The `requestsPerSize` requests of one size, on its seeded pool: every run builds the same ones.
    static func searches(size: Int) -> [SlotSearch] {
        var g = BenchRandom(seed: UInt64(size) &* 7919)
        let pool = makePool(size, &g)
        return (0..<requestsPerSize).map { makeSearch(pool, request: $0, &g) }
    }

    /// 1 Dec 2026 00:00 UTC, a Tuesday; "now" for every request.
    static let now = Date(timeIntervalSince1970: 1_796_083_200)

    static func makePool(_ size: Int, _ g: inout BenchRandom) -> [SlotCandidate] {
        let shapes = [
            "mon-fri 09:00-12:00 14:00-18:00", "mon,wed,fri 09:00-12:00", "tue,thu 14:00-18:00",
            "mon-fri 19:00-21:00; sat 09:00-12:00", "sat,sun 09:00-17:00", "mon-sun 08:00-20:00",
            "wed 09:00-12:00; fri 14:00-17:00",
        ].map { (try? WeeklyWindow.parseList($0, field: "bench")) ?? [] }
        let zones = [
            "Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai", "Asia/Urumqi", "Europe/Berlin",
        ]
        // Tags as people type them: the finder compares them trimmed, lower-case, with spaces, `_` and `-` equal.
        let specialties = [
            "property", "Family Law", "labour", "debt", "traffic", "neighbour", "family_law", "family-law ",
        ]
        let languages = [["mandarin"], ["Mandarin", "cantonese"], ["mandarin", "Shanghai dialect"]]
        return (0..<size).map { i in
            let roll = g.below(1000)
            // 2 % lawyers, 5 % legal officers, 10 % community staff, the rest retirees.
            let role: ExpertRole =
                roll < 20 ? .lawyer : roll < 70 ? .legalOfficer : roll < 170 ? .communityStaff : .retiree
            var sessions: [Interval] = []
            for _ in 0..<(8 + g.below(5)) {
                // Sessions from 30 days before now to 80 days after, on the quarter hour, 1–2 hours long.
                let start = now.timeIntervalSince1970 + Double(g.below(110 * 96) - 30 * 96) * 900
                sessions.append(
                    Interval(
                        start: Date(timeIntervalSince1970: start),
                        end: Date(timeIntervalSince1970: start + Double(4 + g.below(5)) * 900)))
            }
            var timeOff: [Interval] = []
            if g.below(5) == 0 {
                let start = now.timeIntervalSince1970 + Double(g.below(70)) * 86400
                timeOff.append(
                    Interval(
                        start: Date(timeIntervalSince1970: start),
                        end: Date(timeIntervalSince1970: start + Double(2 + g.below(10)) * 86400)))
            }
            // One expert in six gives 1–3 dated evenings beyond the weekly hours (18:00–22:00 UTC, which is past
            // midnight in Shanghai and Urumqi: the extra time joins the weekly hours of the next day there).
            var extra: [Interval] = []
            if g.below(6) == 0 {
                for _ in 0..<(1 + g.below(3)) {
                    let start = now.timeIntervalSince1970 + Double(1 + g.below(80)) * 86400 + 18 * 3600
                    extra.append(
                        Interval(
                            start: Date(timeIntervalSince1970: start),
                            end: Date(timeIntervalSince1970: start + 4 * 3600)))
                }
            }
            return SlotCandidate(
                id: Int64(i + 1), name: "专家\(i + 1)", role: role,
                specialties: [specialties[g.below(specialties.count)]], languages: languages[g.below(languages.count)],
                active: g.below(50) != 0, conflicted: g.below(100) == 0, timeZone: zones[g.below(zones.count)],
                weeklyHours: shapes[g.below(shapes.count)], timeOff: timeOff, extra: extra, sessions: sessions,
                maxSessionsPerDay: 1 + g.below(2), maxSessionsPerWeek: 2 + g.below(4))
        }
    }

    /// Request `n`: by `n % 5`, the plain panel (0, 4), a pinned lawyer who has extra time (1), tagged seats and
    /// two of one role (2), or a window on a Sunday, when the office is closed, with parties free after it so that
    /// the nearest option exists (3). Every third request excludes one expert.
    static func makeSearch(_ pool: [SlotCandidate], request n: Int, _ g: inout BenchRandom) -> SlotSearch {
        let office =
            (try? WeeklyWindow.parseList("mon-fri 09:00-12:00 14:00-18:00; sat 09:00-12:00", field: "bench"))
            ?? []
        let zone = (try? Zone("Asia/Shanghai")) ?? .shanghai
        var firstDay = zone.wallClock(now).date.adding(days: 1 + g.below(20))
        var days = 60
        if n % 5 == 3 {
            // The next Sunday: the office is closed all day, so the window has no option.
            while firstDay.weekday != .sunday { firstDay = firstDay.adding(days: 1) }
            days = 1
        }
        let window = Interval(
            start: zone.instant(firstDay, .midnight), end: zone.instant(firstDay.adding(days: days), .midnight))
        let nearestSearchDays = 28
        // Two parties, each free on some weekday evenings and weekend mornings, resolved over the window and the
        // days searched for the nearest option after it.
        let partyShapes = [
            "mon-fri 09:00-18:00", "mon,wed,fri 14:00-18:00", "tue,thu 09:00-12:00 14:00-17:00", "sat 09:00-12:00",
            "mon-fri 10:00-11:30", "mon-sat 09:00-18:00",
        ]
        let resolved = Interval(
            start: window.start, end: window.end.addingTimeInterval(Double(nearestSearchDays) * 86400))
        let parties = (0..<2).map { _ in
            // The closed-day request's parties always meet (weekdays), so that its nearest option can exist.
            let shape = n % 5 == 3 ? partyShapes[[0, 5][g.below(2)]] : partyShapes[g.below(partyShapes.count)]
            return AvailabilityResolver.expand(
                (try? WeeklyWindow.parseList(shape, field: "bench")) ?? [], in: zone, over: resolved)
        }
        let holidays = [LocalDate(year: 2026, month: 12, day: 31), LocalDate(year: 2027, month: 1, day: 1)]
            .compactMap { $0 }
        let excluded: [Int64] = n % 3 == 0 ? [Int64(1 + g.below(pool.count))] : []
        var requirements = [
            PanelRequirement(role: .legalOfficer), PanelRequirement(role: .lawyer),
            PanelRequirement(role: .communityStaff),
        ]
        var pinned: [Int64] = []
        switch n % 5 {
        case 1:
            // A lawyer who may sit and has extra time, else any lawyer who may sit.
            let lawyers = pool.filter { $0.role == .lawyer && $0.active && !$0.conflicted && !excluded.contains($0.id) }
            let withExtra = lawyers.filter { !$0.extra.isEmpty }
            let from = withExtra.isEmpty ? lawyers : withExtra
            if !from.isEmpty { pinned = [from[g.below(from.count)].id] }
        case 2:
            // A legal officer for family law (however it was typed), a lawyer, a community staff member who speaks
            // Cantonese, and two retirees.
            requirements = [
                PanelRequirement(role: .legalOfficer, specialty: "Family-Law"), PanelRequirement(role: .lawyer),
                PanelRequirement(role: .communityStaff, language: " Cantonese"),
                PanelRequirement(role: .retiree, count: 2),
            ]
        default:
            break
        }
        return SlotSearch(
            requirements: requirements, durationMinutes: 90, window: window, now: now, minimumNoticeMinutes: 24 * 60,
            bufferMinutes: 30, officeTimeZone: "Asia/Shanghai", officeHours: office, holidays: holidays,
            parties: parties, candidates: pool, pinned: pinned, excluded: excluded,
            preferredSpecialties: [["property", "family law", "labour"][n % 3]], stepMinutes: 15, maxOptions: 5,
            nearestSearchDays: nearestSearchDays)
    }
}

/// SplitMix64, so that every run generates the same pools.
struct BenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}
