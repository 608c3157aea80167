import Foundation

/// A half-open range `[lo, hi)` of whole minutes since the Unix epoch; the slot finder's unit of work.
struct MinuteSpan: Sendable, Hashable {
    var lo: Int
    var hi: Int

    init(_ lo: Int, _ hi: Int) {
        self.lo = lo
        self.hi = hi
    }

    var isEmpty: Bool { hi <= lo }
}

/// Set operations on sorted, disjoint, non-touching lists of minute spans.
enum MinuteSpans {
    static func normalize(_ spans: [MinuteSpan]) -> [MinuteSpan] {
        var result: [MinuteSpan] = []
        result.reserveCapacity(spans.count)
        let sorted =
            spans.allSatisfy({ !$0.isEmpty }) && zip(spans, spans.dropFirst()).allSatisfy({ $0.lo <= $1.lo })
            ? spans : spans.filter { !$0.isEmpty }.sorted { ($0.lo, $0.hi) < ($1.lo, $1.hi) }
        for s in sorted {
            if let last = result.last, s.lo <= last.hi {
                result[result.count - 1].hi = max(last.hi, s.hi)
            } else {
                result.append(s)
            }
        }
        return result
    }

    /// Both inputs normalised.
    static func intersect(_ a: [MinuteSpan], _ b: [MinuteSpan]) -> [MinuteSpan] {
        var i = 0
        var j = 0
        var result: [MinuteSpan] = []
        while i < a.count && j < b.count {
            let lo = max(a[i].lo, b[j].lo)
            let hi = min(a[i].hi, b[j].hi)
            if lo < hi { result.append(MinuteSpan(lo, hi)) }
            if a[i].hi < b[j].hi { i += 1 } else { j += 1 }
        }
        return result
    }

    /// Everything in `a` not in `b`; both inputs normalised.
    static func subtract(_ a: [MinuteSpan], _ b: [MinuteSpan]) -> [MinuteSpan] {
        guard !b.isEmpty, !a.isEmpty else { return a }
        var result: [MinuteSpan] = []
        var j = 0
        for var piece in a {
            while j < b.count && b[j].hi <= piece.lo { j += 1 }
            var k = j
            while k < b.count && b[k].lo < piece.hi {
                if b[k].lo > piece.lo { result.append(MinuteSpan(piece.lo, b[k].lo)) }
                piece.lo = max(piece.lo, b[k].hi)
                if piece.isEmpty { break }
                k += 1
            }
            if !piece.isEmpty { result.append(piece) }
        }
        return result
    }

    /// Whether minute `t` lies in one of the spans.
    static func contains(_ spans: [MinuteSpan], _ t: Int) -> Bool {
        var lo = 0
        var hi = spans.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if spans[mid].hi <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo < spans.count && spans[lo].lo <= t
    }

    /// The smallest multiple of `step` in the spans.
    static func firstGridPoint(_ spans: [MinuteSpan], step: Int) -> Int? {
        for s in spans {
            let t = ceilDiv(s.lo, step) * step
            if t < s.hi { return t }
        }
        return nil
    }

    /// Every multiple of `step` in the spans, in order.
    static func gridPoints(_ spans: [MinuteSpan], step: Int) -> [Int] {
        var result: [Int] = []
        for s in spans {
            var t = ceilDiv(s.lo, step) * step
            while t < s.hi {
                result.append(t)
                t += step
            }
        }
        return result
    }
}

func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

/// Whole minutes since the epoch, rounded down or up; far-away instants are clamped so that nothing traps.
func minuteFloor(_ date: Date) -> Int { Int(clampedMinutes(date).rounded(.down)) }
func minuteCeil(_ date: Date) -> Int { Int(clampedMinutes(date).rounded(.up)) }

private func clampedMinutes(_ date: Date) -> Double {
    let m = date.timeIntervalSince1970 / 60
    guard m.isFinite else { return m > 0 ? 1e12 : -1e12 }
    return min(max(m, -1e12), 1e12)
}

func dateOf(minute: Int) -> Date { Date(timeIntervalSince1970: Double(minute) * 60) }

/// Zone conversions with the UTC offsets of one span of time sampled once, so that the many conversions
/// a search makes are arithmetic. Mirrors `Zone.instant` and `Zone.wallClock` exactly; outside the sampled span,
/// or for offset changes closer together than a day (none exist in the tz database), it asks the zone.
struct ZoneClock {
    let zone: Zone
    private let lo: Int
    private let hi: Int
    private let starts: [Int]
    private let offsets: [Int]

    /// Samples offsets between two instants given in seconds since the epoch.
    init(zone: Zone, fromSecond: Int, toSecond: Int) {
        self.zone = zone
        func off(_ s: Int) -> Int { zone.offset(at: Date(timeIntervalSince1970: Double(s))) }
        var starts = [fromSecond]
        var offsets = [off(fromSecond)]
        var t = fromSecond
        while t < toSecond {
            let next = t + 86400
            let o = off(next)
            if o != offsets[offsets.count - 1] {
                // Find the first second with the new offset.
                var a = t
                var b = next
                while b - a > 1 {
                    let m = (a + b) / 2
                    if off(m) == o { b = m } else { a = m }
                }
                starts.append(b)
                offsets.append(o)
            }
            t = next
        }
        self.lo = fromSecond
        self.hi = t
        self.starts = starts
        self.offsets = offsets
    }

    /// UTC offset in seconds at an instant given in seconds.
    func offset(_ second: Int) -> Int {
        guard second >= lo, second < hi else { return zone.offset(at: Date(timeIntervalSince1970: Double(second))) }
        var a = 0
        var b = starts.count
        while b - a > 1 {
            let m = (a + b) / 2
            if starts[m] <= second { a = m } else { b = m }
        }
        return offsets[a]
    }

    /// Seconds since the epoch at which the wall clock shows `minutes` past midnight of day `day`
    /// (days since 1970-01-01); the same rules as `Zone.instant`.
    func instantSecond(day: Int, minutes: Int) -> Int {
        let wall = day * 86400 + minutes * 60
        let before = offset(wall - 86400)
        let after = offset(wall + 86400)
        var best: Int?
        for c in [wall - before, wall - after] where offset(c) == wall - c {
            best = min(best ?? c, c)
        }
        return best ?? wall - before
    }

    /// The wall-clock day (days since 1970-01-01) at a minute since the epoch.
    func localDay(minute: Int) -> Int {
        let s = minute * 60
        return floorDiv(s + offset(s), 86400)
    }

    /// The wall-clock day and minutes past midnight at a minute since the epoch.
    func wallClock(minute: Int) -> (day: Int, minutes: Int) {
        let s = minute * 60
        let local = s + offset(s)
        let day = floorDiv(local, 86400)
        return (day, (local - day * 86400) / 60)
    }
}

/// ISO weekday index 0 (Monday)…6 (Sunday) of a day number.
func weekdayIndex(day: Int) -> Int { ((day % 7) + 7 + 3) % 7 }

/// The day number of the Monday that starts the ISO week holding `day`.
func weekStart(day: Int) -> Int { day - weekdayIndex(day: day) }
