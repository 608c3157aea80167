import Foundation

/// Proposes session times at which a complete, fair panel of experts and every party are free.
///
/// For example:
/// ```swift
/// let answer = try SlotFinder.find(search)
/// for option in answer.options { print(option.explanation) }
/// ```
///
/// How it works: the start times allowed by the window, the notice, office hours, holidays and the parties are
/// computed once as minute ranges. Then, one office window at a time and the scarcest requirement first, each
/// eligible expert's feasible starts inside what is still possible are computed (weekly hours in their zone plus
/// extra time, minus time off, minus sessions widened by the buffer, minus days and weeks at their cap), and the
/// step-grid starts that survive are tried in order; the best panel for a start is chosen exactly among each
/// seat's best few experts. Unless `everyStart`, options are spread: a start whose best panel is the same
/// experts as an earlier option's on the same office-local half-day (before 12:00, or from 12:00) is skipped.
/// The search stops after `maxOptions` options, so the cost follows how early the answer is, not how long the
/// window is.
public enum SlotFinder {
    /// The longest session the finder plans, in minutes.
    public static let maximumDurationMinutes = 480
    /// The most seats a panel may have.
    public static let maximumSeats = 12
    /// Where the office-local morning ends and the afternoon begins when options are spread (12:00), in minutes.
    public static let afternoonStartsAt = 720

    /// Finds the best options for a search.
    ///
    /// - Parameter search: the panel, the window, the parties and the candidate experts.
    /// - Returns: up to `maxOptions` options with distinct starts, earliest first, at most one per half-day for
    ///   the same experts unless `everyStart`; when there are none, the reasons and the nearest option after the
    ///   window.
    /// - Throws: `invalidInput` for a search that cannot be answered (window in the past or reversed, a duration
    ///   outside 1…480 minutes, an unknown zone, a pinned expert who cannot sit on this panel, no requirements).
    public static func find(_ search: SlotSearch) throws -> SlotAnswer {
        let engine = try SlotEngine(search)
        let windowLo = minuteCeil(search.window.start)
        let windowHi = minuteFloor(search.window.end)
        let options = engine.search(from: windowLo, to: windowHi, limit: search.maxOptions)
        if !options.isEmpty { return SlotAnswer(options: options) }
        let reasons = engine.reasons(from: windowLo, to: windowHi)
        let nearest =
            search.nearestSearchDays > 0
            ? engine.search(from: windowHi, to: windowHi + search.nearestSearchDays * 1440, limit: 1).first : nil
        return SlotAnswer(
            options: [], reasons: reasons.map(\.en), nearest: nearest, reasonsChinese: reasons.map(\.zh))
    }
}

/// Where a candidate's feasible starts ran out, for the reasons a person reads.
enum CandidateStage: Int, Sendable {
    case hours, leave, booked, weekCap, dayCap, free
}

/// Where the starts allowed for everyone ran out.
enum GlobalStage: Sendable {
    case notice, office, parties, open
}

/// One search's working state; lives only inside `SlotFinder.find`.
final class SlotEngine {
    struct Prepared {
        /// Per ISO weekday index (0 = Monday): wall-clock minutes `(start, end)`.
        var weekly: [[(Int, Int)]]
        var extra: [MinuteSpan]
        /// Starts ruled out by time off.
        var leave: [MinuteSpan]
        /// Starts ruled out by existing sessions widened by the buffer.
        var busy: [MinuteSpan]
        /// Local day numbers of session starts near the search, sorted.
        var sessionDays: [Int]
        /// Local Monday day numbers of those sessions' weeks, sorted.
        var sessionWeeks: [Int]
        /// Sessions starting in the 30 days before `now`.
        var recent: Int
        /// Specialties shared with `preferredSpecialties`.
        var matches: Int
    }

    let search: SlotSearch
    let duration: Int
    let step: Int
    let nowMinute: Int
    let officeZone: Zone
    let officeClock: ZoneClock
    var clocks: [ZoneClock] = []
    /// Per candidate: index into `clocks`.
    var clockOf: [Int] = []
    var holidays: Set<Int> = []
    var specialtyOf: [String?] = []
    var languageOf: [String?] = []
    /// Per requirement: indices of candidates who may sit in it.
    var eligible: [[Int]] = []
    /// Per seat: its requirement index.
    var seats: [Int] = []
    var pinned: [Int] = []
    var excluded: Set<Int64> = []
    var preferred: Set<String> = []
    var prepared: [Prepared?] = []
    private var cacheStamp: [Int] = []
    private var cacheSets: [[MinuteSpan]] = []
    private var stamp = 0
    private let sessionRange: (Int, Int)

    init(_ search: SlotSearch) throws {
        self.search = search
        duration = search.durationMinutes
        step = search.stepMinutes
        nowMinute = minuteCeil(search.now)
        var problems = Problems()
        if search.requirements.isEmpty {
            problems.add(
                FieldProblem(
                    field: "general",
                    en: "no panel requirement given; ask for at least one expert, for example one lawyer",
                    zh: "没有席位要求，请至少要一位专家，如一位律师"))
        }
        for (i, r) in search.requirements.enumerated() where r.count < 1 {
            problems.add(
                FieldProblem(
                    field: "general",
                    en: "requirement \(i + 1) (\(r.role.rawValue)) asks for \(r.count) experts; ask for 1 or more",
                    zh: "第 \(i + 1) 项席位要求（\(r.role.chinese)）要 \(r.count) 位专家，请至少要 1 位"))
        }
        let seatCount = search.requirements.reduce(0) { $0 + max($1.count, 0) }
        if seatCount > SlotFinder.maximumSeats {
            problems.add(
                FieldProblem(
                    field: "general",
                    en: "the panel has \(seatCount) seats; ask for at most \(SlotFinder.maximumSeats)",
                    zh: "专家组有 \(seatCount) 个席位，最多 \(SlotFinder.maximumSeats) 个"))
        }
        if search.durationMinutes <= 0 || search.durationMinutes > SlotFinder.maximumDurationMinutes {
            problems.add(
                FieldProblem(
                    field: "minutes",
                    en: "session length \(search.durationMinutes) minutes is not between 1 and "
                        + "\(SlotFinder.maximumDurationMinutes) (8 hours); give a length such as 90",
                    zh: "时长 \(search.durationMinutes) 分钟不在 1 到 \(SlotFinder.maximumDurationMinutes) 分钟（8 小时）之间，"
                        + "请填写如 90"))
        }
        let earliest = search.now.addingTimeInterval(Double(max(search.minimumNoticeMinutes, 0)) * 60)
        if search.window.end <= search.window.start {
            problems.add(
                FieldProblem(
                    field: "to", en: "the window ends before it starts; give the earlier date first",
                    zh: "结束日期早于开始日期，请把较早的日期填在前面"))
        } else if search.window.end <= earliest {
            problems.add(
                FieldProblem(
                    field: "to",
                    en: "the window is in the past: it ends before the earliest allowed start (now plus "
                        + "\(search.minimumNoticeMinutes) minutes of notice); choose later dates",
                    zh: "这段日期已经过去：最早只能从现在起 \(search.minimumNoticeMinutes) 分钟后开始，请选择以后的日期"))
        } else if search.window.duration > AvailabilityResolver.maximumSpan {
            problems.add(
                FieldProblem(
                    field: "to", en: "the window is longer than 366 days; search a shorter window",
                    zh: "查找的日期范围超过 366 天，请缩短范围"))
        }
        if search.minimumNoticeMinutes < 0 {
            problems.add(
                FieldProblem(
                    field: "general",
                    en: "minimum notice is below 0 minutes",
                    zh: "最短提前时间不能少于 0 分钟"))
        }
        if !(0...1440).contains(search.bufferMinutes) {
            problems.add(
                FieldProblem(
                    field: "general",
                    en: "buffer \(search.bufferMinutes) minutes is not between 0 and 1440",
                    zh: "前后间隔 \(search.bufferMinutes) 分钟不在 0 到 1440 分钟之间"))
        }
        if !(1...1440).contains(search.stepMinutes) {
            problems.add(
                FieldProblem(
                    field: "general",
                    en: "step \(search.stepMinutes) minutes is not between 1 and 1440; 15 is usual",
                    zh: "查找步长 \(search.stepMinutes) 分钟不在 1 到 1440 分钟之间，通常为 15"))
        }
        if !(1...100).contains(search.maxOptions) {
            problems.add(
                FieldProblem(
                    field: "general",
                    en: "asked for \(search.maxOptions) options; ask for 1 to 100",
                    zh: "要求列出 \(search.maxOptions) 个时间，请要 1 到 100 个"))
        }
        if !(0...366).contains(search.nearestSearchDays) {
            problems.add(
                FieldProblem(
                    field: "general",
                    en: "nearest search of \(search.nearestSearchDays) days is not between 0 and 366",
                    zh: "就近查找 \(search.nearestSearchDays) 天不在 0 到 366 天之间"))
        }
        var office: Zone?
        do { office = try Zone(search.officeTimeZone) } catch let e as MediationError {
            problems.add(
                FieldProblem(
                    field: "general",
                    en: "office: " + e.message,
                    zh: "调解室的时区“\(search.officeTimeZone)”无法识别，请写 Asia/Shanghai 这样的名称"))
        }
        // Zones are checked once per distinct name: building a `Zone` is not cheap.
        var zoneIndex: [String: Int] = [:]
        var zones: [Zone] = []
        var badZone: Set<String> = []
        clockOf.reserveCapacity(search.candidates.count)
        for c in search.candidates {
            if let i = zoneIndex[c.timeZone] {
                clockOf.append(i)
            } else if badZone.contains(c.timeZone) {
                clockOf.append(-1)
            } else if let z = try? Zone(c.timeZone) {
                zoneIndex[c.timeZone] = zones.count
                clockOf.append(zones.count)
                zones.append(z)
            } else {
                badZone.insert(c.timeZone)
                clockOf.append(-1)
            }
        }
        for (i, c) in search.candidates.enumerated() where clockOf[i] < 0 {
            problems.add(
                FieldProblem(
                    field: "general",
                    en: "expert \(c.name) (#\(c.id)): time zone '\(c.timeZone)' is not a known IANA zone; "
                        + "use a name such as Asia/Shanghai",
                    zh: "专家 \(c.name)（#\(c.id)）的时区“\(c.timeZone)”无法识别，请写 Asia/Shanghai 这样的名称"))
            if problems.items.count > 20 { break }
        }
        try problems.check("slot search")
        guard let office else { throw MediationError.invalidInput("office time zone is unknown") }
        officeZone = office

        let spanLo = minuteFloor(search.window.start) - 10 * 1440
        let spanHi = minuteCeil(search.window.end) + (search.nearestSearchDays + 10) * 1440
        sessionRange = (spanLo, spanHi)
        officeClock = ZoneClock(zone: office, fromSecond: spanLo * 60, toSecond: spanHi * 60)
        clocks = zones.map { ZoneClock(zone: $0, fromSecond: spanLo * 60, toSecond: spanHi * 60) }
        holidays = Set(search.holidays.map(\.dayNumber))
        specialtyOf = search.requirements.map { $0.specialty.flatMap { Tag.normalize([$0]).first } }
        languageOf = search.requirements.map { $0.language.flatMap { Tag.normalize([$0]).first } }
        excluded = Set(search.excluded)
        preferred = Set(Tag.normalize(search.preferredSpecialties))
        seats = search.requirements.enumerated().flatMap { Array(repeating: $0.offset, count: $0.element.count) }
        prepared = Array(repeating: nil, count: search.candidates.count)
        cacheStamp = Array(repeating: -1, count: search.candidates.count)
        cacheSets = Array(repeating: [], count: search.candidates.count)

        eligible = Array(repeating: [], count: search.requirements.count)
        for (i, c) in search.candidates.enumerated()
        where c.active && !c.conflicted && !excluded.contains(c.id) {
            for r in search.requirements.indices where fits(i, r) { eligible[r].append(i) }
        }
        try checkPinned()
    }

    /// Role and tags only; whether the expert may be proposed at all is checked by the caller.
    func fits(_ i: Int, _ r: Int) -> Bool {
        let c = search.candidates[i]
        guard c.role == search.requirements[r].role else { return false }
        if let s = specialtyOf[r], !Tag.normalize(c.specialties).contains(s) { return false }
        if let l = languageOf[r], !Tag.normalize(c.languages).contains(l) { return false }
        return true
    }

    private func checkPinned() throws {
        var problems = Problems()
        var index: [Int64: Int] = [:]
        for (i, c) in search.candidates.enumerated() where index[c.id] == nil { index[c.id] = i }
        var seen: Set<Int64> = []
        for id in search.pinned where seen.insert(id).inserted {
            guard let i = index[id] else {
                problems.add(
                    FieldProblem(
                        field: "pin",
                        en: "pinned expert #\(id) is not in the pool for this search; check the id",
                        zh: "指定的专家 #\(id) 不在本次可选的专家中，请核对编号"))
                continue
            }
            let c = search.candidates[i]
            let who = "pinned expert \(c.name) (#\(c.id))"
            let whoZh = "指定的专家 \(c.name)（#\(c.id)）"
            if !c.active {
                problems.add(
                    FieldProblem(
                        field: "pin",
                        en: "\(who) is inactive; reactivate them or pin someone else",
                        zh: "\(whoZh)已停用，请先恢复启用或另选专家"))
            }
            if excluded.contains(id) {
                problems.add(
                    FieldProblem(
                        field: "pin",
                        en: "\(who) is also excluded; keep one of the two",
                        zh: "\(whoZh)同时被排除了，请只保留一种"))
            }
            if c.conflicted {
                problems.add(
                    FieldProblem(
                        field: "pin",
                        en: "\(who) has a conflict of interest with this dispute and can never sit on its panel",
                        zh: "\(whoZh)与本纠纷有利害关系，不能进入专家组"))
            }
            pinned.append(i)
        }
        try problems.check("pinned experts")
        // Every pinned expert needs a seat of their own (a bipartite matching).
        var seatOf: [Int?] = Array(repeating: nil, count: seats.count)
        func place(_ p: Int, _ visited: inout [Bool]) -> Bool {
            for s in seats.indices where !visited[s] && eligible[seats[s]].contains(p) {
                visited[s] = true
                if let other = seatOf[s] {
                    if place(other, &visited) {
                        seatOf[s] = p
                        return true
                    }
                } else {
                    seatOf[s] = p
                    return true
                }
            }
            return false
        }
        for p in pinned {
            var visited = Array(repeating: false, count: seats.count)
            if !place(p, &visited) {
                let names = pinned.map { "\(search.candidates[$0].name) (\(search.candidates[$0].role.rawValue))" }
                let panel = search.requirements.map(describe).joined(separator: ", ")
                let namesZh = pinned.map { "\(search.candidates[$0].name)（\(search.candidates[$0].role.chinese)）" }
                let panelZh = search.requirements.map { ($0.count == 1 ? "" : "\($0.count)×") + subjectChinese($0) }
                    .joined(separator: "、")
                throw MediationError.said(
                    .invalidInput, field: "pin",
                    en: "the pinned experts \(names.joined(separator: ", ")) cannot all sit on a panel of \(panel); "
                        + "pin fewer experts or change the panel",
                    zh: "指定的专家 \(namesZh.joined(separator: "、")) 无法同时进入“\(panelZh)”的专家组，请少指定几位或更换组成规则")
            }
        }
    }

    /// `2 × lawyer with 'property'`.
    func describe(_ r: PanelRequirement) -> String {
        (r.count == 1 ? "" : "\(r.count) × ") + subject(r)
    }

    /// `lawyer with 'property' speaking 'cantonese'`.
    func subject(_ r: PanelRequirement) -> String {
        var text = r.role.rawValue
        if let s = r.specialty.flatMap({ Tag.normalize([$0]).first }) { text += " with '\(s)'" }
        if let l = r.language.flatMap({ Tag.normalize([$0]).first }) { text += " speaking '\(l)'" }
        return text
    }

    // MARK: - Candidates

    func prepare(_ i: Int) -> Prepared {
        if let p = prepared[i] { return p }
        let c = search.candidates[i]
        let clock = clocks[clockOf[i]]
        var weekly: [[(Int, Int)]] = Array(repeating: [], count: 7)
        for w in c.weeklyHours where w.end > w.start {
            weekly[w.weekday.rawValue - 1].append((w.start.minutes, w.end.minutes))
        }
        let extra = MinuteSpans.normalize(c.extra.map { MinuteSpan(minuteCeil($0.start), minuteFloor($0.end)) })
        let leave = MinuteSpans.normalize(
            c.timeOff.map { MinuteSpan(minuteFloor($0.start) - duration + 1, minuteCeil($0.end)) })
        let b = search.bufferMinutes
        let busy = MinuteSpans.normalize(
            c.sessions.map { MinuteSpan(minuteFloor($0.start) - b - duration + 1, minuteCeil($0.end) + b) })
        var days: [Int] = []
        var recent = 0
        let recentLo = nowMinute - 30 * 1440
        for s in c.sessions {
            let m = minuteFloor(s.start)
            if m >= sessionRange.0 && m < sessionRange.1 { days.append(clock.localDay(minute: m)) }
            if s.start < search.now && m >= recentLo { recent += 1 }
        }
        days.sort()
        let weeks = days.map { weekStart(day: $0) }
        let matches = preferred.isEmpty ? 0 : Tag.normalize(c.specialties).filter { preferred.contains($0) }.count
        let p = Prepared(
            weekly: weekly, extra: extra, leave: leave, busy: busy, sessionDays: days, sessionWeeks: weeks,
            recent: recent, matches: matches)
        prepared[i] = p
        return p
    }

    /// The candidate's feasible starts inside `within` (normalised, not empty), and where they ran out.
    func starts(_ i: Int, within: [MinuteSpan]) -> (spans: [MinuteSpan], stage: CandidateStage) {
        guard let first = within.first, let last = within.last else { return ([], .hours) }
        let p = prepare(i)
        let clock = clocks[clockOf[i]]
        let c = search.candidates[i]
        let lo = first.lo
        let hi = last.hi
        var free: [MinuteSpan] = []
        let firstDay = clock.localDay(minute: lo) - 1
        let lastDay = clock.localDay(minute: hi + duration) + 1
        var day = firstDay
        while day <= lastDay {
            for (s, e) in p.weekly[weekdayIndex(day: day)] {
                free.append(
                    MinuteSpan(
                        ceilDiv(clock.instantSecond(day: day, minutes: s), 60),
                        floorDiv(clock.instantSecond(day: day, minutes: e), 60)))
            }
            day += 1
        }
        for x in p.extra where x.hi > lo && x.lo < hi + duration { free.append(x) }
        free = MinuteSpans.normalize(free)
        var set: [MinuteSpan] = []
        for f in free where f.hi - duration + 1 > f.lo { set.append(MinuteSpan(f.lo, f.hi - duration + 1)) }
        set = MinuteSpans.intersect(set, within)
        if MinuteSpans.firstGridPoint(set, step: step) == nil { return ([], .hours) }
        set = MinuteSpans.subtract(set, p.leave)
        if MinuteSpans.firstGridPoint(set, step: step) == nil { return ([], .leave) }
        set = MinuteSpans.subtract(set, p.busy)
        if MinuteSpans.firstGridPoint(set, step: step) == nil { return ([], .booked) }
        if p.sessionDays.count >= min(c.maxSessionsPerDay, c.maxSessionsPerWeek) {
            var weekBlocks: [MinuteSpan] = []
            var dayBlocks: [MinuteSpan] = []
            let dayHi = clock.localDay(minute: hi - 1)
            var d = clock.localDay(minute: lo)
            while d <= dayHi {
                let span = MinuteSpan(
                    ceilDiv(clock.instantSecond(day: d, minutes: 0), 60),
                    ceilDiv(clock.instantSecond(day: d + 1, minutes: 0), 60))
                if count(p.sessionWeeks, weekStart(day: d)) >= c.maxSessionsPerWeek {
                    weekBlocks.append(span)
                } else if count(p.sessionDays, d) >= c.maxSessionsPerDay {
                    dayBlocks.append(span)
                }
                d += 1
            }
            if !weekBlocks.isEmpty {
                set = MinuteSpans.subtract(set, MinuteSpans.normalize(weekBlocks))
                if MinuteSpans.firstGridPoint(set, step: step) == nil { return ([], .weekCap) }
            }
            if !dayBlocks.isEmpty {
                set = MinuteSpans.subtract(set, MinuteSpans.normalize(dayBlocks))
                if MinuteSpans.firstGridPoint(set, step: step) == nil { return ([], .dayCap) }
            }
        }
        return (set, .free)
    }

    /// How often `value` occurs in a sorted array.
    func count(_ sorted: [Int], _ value: Int) -> Int {
        var a = 0
        var b = sorted.count
        while a < b {
            let m = (a + b) / 2
            if sorted[m] < value { a = m + 1 } else { b = m }
        }
        var n = 0
        while a + n < sorted.count && sorted[a + n] == value { n += 1 }
        return n
    }

    // MARK: - Starts allowed for everyone

    /// Starts in `[from, to)` (sessions must end by `to`) allowed by the notice, office hours, holidays and parties.
    func globalStarts(from: Int, to: Int, withParties: Bool = true) -> (spans: [MinuteSpan], stage: GlobalStage) {
        let lo = max(from, minuteCeil(search.now.addingTimeInterval(Double(search.minimumNoticeMinutes) * 60)))
        let hi = to - duration + 1
        var set = [MinuteSpan(lo, hi)]
        if lo >= hi || MinuteSpans.firstGridPoint(set, step: step) == nil { return ([], .notice) }
        var office: [MinuteSpan] = []
        let officeHours = search.outsideOfficeHours ? WeeklyWindow.wholeWeek : search.officeHours
        let lastDay = officeClock.localDay(minute: to) + 1
        var day = officeClock.localDay(minute: lo) - 1
        while day <= lastDay {
            if !holidays.contains(day) {
                let wd = weekdayIndex(day: day) + 1
                // Each office window is its own span: a session never runs from one window into the next.
                for w in officeHours where w.weekday.rawValue == wd {
                    let a = ceilDiv(officeClock.instantSecond(day: day, minutes: w.start.minutes), 60)
                    let b = floorDiv(officeClock.instantSecond(day: day, minutes: w.end.minutes), 60) - duration + 1
                    if b > a { office.append(MinuteSpan(a, b)) }
                }
            }
            day += 1
        }
        set = MinuteSpans.intersect(set, MinuteSpans.normalize(office))
        if MinuteSpans.firstGridPoint(set, step: step) == nil { return ([], .office) }
        for party in search.parties where withParties {
            set = MinuteSpans.intersect(set, partyStarts(party))
        }
        if MinuteSpans.firstGridPoint(set, step: step) == nil { return ([], .parties) }
        return (set, .open)
    }

    func partyStarts(_ party: [Interval]) -> [MinuteSpan] {
        let free = MinuteSpans.normalize(party.map { MinuteSpan(minuteCeil($0.start), minuteFloor($0.end)) })
        return free.compactMap { f in f.hi - duration + 1 > f.lo ? MinuteSpan(f.lo, f.hi - duration + 1) : nil }
    }

    // MARK: - Search

    /// Options in `[from, to)`, at most `limit`, earliest first.
    func search(from: Int, to: Int, limit: Int) -> [SlotOption] {
        let allowed = globalStarts(from: from, to: to).spans
        // Scarce requirements first: they empty the set of possible starts soonest.
        let order = search.requirements.indices.sorted { (eligible[$0].count, $0) < (eligible[$1].count, $1) }
        var options: [SlotOption] = []
        // The half-days and panels already offered (when options are spread).
        var offered: Set<SpreadKey> = []
        for span in allowed {
            stamp += 1
            var possible = [span]
            var lists: [[Int]] = Array(repeating: [], count: search.requirements.count)
            for r in order {
                var union: [MinuteSpan] = []
                for i in eligible[r] {
                    if cacheStamp[i] != stamp {
                        cacheStamp[i] = stamp
                        cacheSets[i] = starts(i, within: possible).spans
                    }
                    let set = cacheSets[i]
                    if !set.isEmpty {
                        lists[r].append(i)
                        union.append(contentsOf: set)
                    }
                }
                possible =
                    lists[r].count < search.requirements[r].count
                    ? [] : MinuteSpans.intersect(possible, MinuteSpans.normalize(union))
                if possible.isEmpty { break }
            }
            for p in pinned where !possible.isEmpty {
                possible = cacheStamp[p] == stamp ? MinuteSpans.intersect(possible, cacheSets[p]) : []
            }
            if possible.isEmpty { continue }
            for t in MinuteSpans.gridPoints(possible, step: step) {
                guard let panel = bestPanel(at: t, lists: lists) else { continue }
                if !search.everyStart && !offered.insert(spreadKey(at: t, panel: panel)).inserted { continue }
                options.append(option(at: t, panel: panel))
                if options.count >= limit { return options }
            }
        }
        return options
    }

    /// An office-local half-day and the experts of a panel, sorted: two options with the same key are not both
    /// offered unless `everyStart`.
    struct SpreadKey: Hashable {
        /// Office-local day number × 2, plus 1 from 12:00 on.
        var halfDay: Int
        var experts: [Int64]
    }

    func spreadKey(at t: Int, panel: [Int]) -> SpreadKey {
        let (day, minutes) = officeClock.wallClock(minute: t)
        return SpreadKey(
            halfDay: day * 2 + (minutes >= SlotFinder.afternoonStartsAt ? 1 : 0),
            experts: panel.map { search.candidates[$0].id }.sorted())
    }

    /// Ranking key of one expert for a start: sessions in the last 30 days, sessions in the slot's week,
    /// fewer preferred specialties last (negated), then id.
    private func key(_ i: Int, at t: Int) -> (Int, Int, Int, Int64) {
        let p = prepare(i)
        let week = weekStart(day: clocks[clockOf[i]].localDay(minute: t))
        return (p.recent, count(p.sessionWeeks, week), -p.matches, search.candidates[i].id)
    }

    /// The best panel for start `t` among the experts free then, as candidate indices per seat.
    func bestPanel(at t: Int, lists: [[Int]]) -> [Int]? {
        let k = seats.count
        let pinnedSet = Set(pinned)
        for p in pinned where !MinuteSpans.contains(cacheSets[p], t) { return nil }
        // Per requirement: the k best unpinned experts free at t, plus the pinned ones who fit.
        var choices: [[(Int, (Int, Int, Int, Int64))]] = []
        for (r, list) in lists.enumerated() {
            var free: [(Int, (Int, Int, Int, Int64))] = []
            for i in list where cacheStamp[i] == stamp && MinuteSpans.contains(cacheSets[i], t) {
                free.append((i, key(i, at: t)))
            }
            if free.count < search.requirements[r].count { return nil }
            free.sort { $0.1 < $1.1 }
            var kept: [(Int, (Int, Int, Int, Int64))] = []
            var unpinned = 0
            for f in free {
                if pinnedSet.contains(f.0) {
                    kept.append(f)
                } else if unpinned < k {
                    kept.append(f)
                    unpinned += 1
                }
            }
            choices.append(kept)
        }
        // Exact search over those: the lowest summed key, then the lowest ids seat by seat.
        var best: [Int]?
        var bestCost = (Int.max, Int.max, Int.max)
        var bestIds: [Int64] = []
        var current: [Int] = []
        var currentIds: [Int64] = []
        var used: Set<Int> = []
        // Lower bound of what the remaining seats add, for pruning.
        var floorFrom = Array(repeating: (0, 0, 0), count: k + 1)
        for s in stride(from: k - 1, through: 0, by: -1) {
            guard let m = choices[seats[s]].first?.1 else { return nil }
            floorFrom[s] = (floorFrom[s + 1].0 + m.0, floorFrom[s + 1].1 + m.1, floorFrom[s + 1].2 + m.2)
        }
        func visit(_ s: Int, _ cost: (Int, Int, Int), _ minPos: Int) {
            let bound = (cost.0 + floorFrom[s].0, cost.1 + floorFrom[s].1, cost.2 + floorFrom[s].2)
            if best != nil && bound > bestCost { return }
            let unseated = pinned.filter { !used.contains($0) }.count
            if unseated > k - s { return }
            if s == k {
                if best == nil || cost < bestCost || (cost == bestCost && currentIds.lexicographicallyPrecedes(bestIds))
                {
                    best = current
                    bestCost = cost
                    bestIds = currentIds
                }
                return
            }
            let r = seats[s]
            let sameAsNext = s + 1 < k && seats[s + 1] == r
            let list = choices[r]
            var pos = minPos
            while pos < list.count {
                let (i, kk) = list[pos]
                if !used.contains(i) {
                    used.insert(i)
                    current.append(i)
                    currentIds.append(kk.3)
                    visit(s + 1, (cost.0 + kk.0, cost.1 + kk.1, cost.2 + kk.2), sameAsNext ? pos + 1 : 0)
                    current.removeLast()
                    currentIds.removeLast()
                    used.remove(i)
                }
                pos += 1
            }
        }
        visit(0, (0, 0, 0), 0)
        return best
    }

    func option(at t: Int, panel: [Int]) -> SlotOption {
        let seatsOut = zip(seats, panel).map { PanelSeat(requirementIndex: $0, expertId: search.candidates[$1].id) }
        return SlotOption(
            start: dateOf(minute: t), end: dateOf(minute: t + duration), panel: seatsOut,
            explanation: search.explain ? explain(at: t, panel: panel, .en) : "",
            explanationChinese: search.explain ? explain(at: t, panel: panel, .zh) : "")
    }

    // MARK: - Words

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Tue 1 Dec 09:00–10:30 Asia/Shanghai: 王芳 (lawyer, property; 1 session in 30 days), …`; in Chinese
    /// `12月1日 周二 09:00–10:30（Asia/Shanghai）：王芳（律师、物业；近 30 天 1 场），…`.
    func explain(at t: Int, panel: [Int], _ language: Language) -> String {
        let (day, minutes) = officeClock.wallClock(minute: t)
        let (endDay, endMinutes) = officeClock.wallClock(minute: t + duration)
        let date = LocalDate(dayNumber: day)
        let month = Self.months[max(0, min(11, date.month - 1))]
        let weekday = Weekday(rawValue: weekdayIndex(day: day) + 1)?.code.capitalized ?? ""
        let clock = { (m: Int) in String(format: "%02d:%02d", m / 60, m % 60) }
        let endText = endDay == day ? clock(endMinutes) : "\(clock(endMinutes)) (+\(endDay - day)d)"
        let people = zip(seats, panel).map { r, i -> String in
            let c = search.candidates[i]
            let p = prepare(i)
            var tags = [c.role.rawValue]
            if let s = specialtyOf[r] {
                tags.append(s)
            } else {
                tags += Tag.normalize(c.specialties).filter { preferred.contains($0) }
            }
            if let l = languageOf[r] { tags.append(l) }
            if language == .zh {
                let said = [Words.expertRole(c.role, .zh)] + tags.dropFirst().map { Words.specialty($0, .zh) }
                return "\(c.name)（\(said.joined(separator: "、"))；近 30 天 \(p.recent) 场）"
            }
            let n = p.recent == 1 ? "1 session" : "\(p.recent) sessions"
            return "\(c.name) (\(tags.joined(separator: ", ")); \(n) in 30 days)"
        }
        if language == .zh {
            let end = endDay == day ? clock(endMinutes) : "次日 \(clock(endMinutes))"
            return "\(Words.day(date, .zh)) \(clock(minutes))–\(end)（\(officeZone.identifier)）："
                + people.joined(separator: "，")
        }
        return "\(weekday) \(date.day) \(month) \(clock(minutes))–\(endText) \(officeZone.identifier): "
            + people.joined(separator: ", ")
    }
}
