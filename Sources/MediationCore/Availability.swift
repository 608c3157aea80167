import Foundation

/// A span in which an expert cannot take sessions (leave, illness, a trial day).
public struct TimeOff: Sendable, Hashable, Codable {
    public var id: Int64
    public var expertId: Int64
    public var interval: Interval
    public var reason: String?

    public init(id: Int64 = 0, expertId: Int64, interval: Interval, reason: String?) {
        self.id = id
        self.expertId = expertId
        self.interval = interval
        self.reason = reason
    }
}

/// A dated span in which an expert is free beyond the weekly hours.
public struct ExtraAvailability: Sendable, Hashable, Codable {
    public var id: Int64
    public var expertId: Int64
    public var interval: Interval
    public var note: String?

    public init(id: Int64 = 0, expertId: Int64, interval: Interval, note: String?) {
        self.id = id
        self.expertId = expertId
        self.interval = interval
        self.note = note
    }
}

/// Resolves weekly rules, extra availability and time off into free intervals.
public enum AvailabilityResolver {
    /// Longest window a single query may ask for, to keep answers small.
    public static let maximumSpan: TimeInterval = 366 * 86400

    /// Checks a dated range a person gave.
    ///
    /// - Throws: `invalidInput` when the end is not after the start.
    public static func checkRange(_ interval: Interval, what: String) throws {
        guard interval.end > interval.start else {
            let en =
                interval.end == interval.start
                ? "\(what) ends before it starts, or where it starts: it has no length (a date alone in --to "
                    + "means the end of that day; a wall-clock time skipped by daylight saving counts as the next one)"
                : "\(what) ends before it starts"
            throw MediationError(
                .invalidInput, en + "; give --from earlier than --to",
                fields: [FieldProblem(field: "to", en: en, zh: "结束时间须晚于开始时间（“到”只写日期时，指那天结束）")])
        }
    }

    /// Checks a leave or extra-time span: it ends after it starts and lasts at most a year.
    ///
    /// - Throws: `invalidInput` with the problem beside the field `to`, in both languages.
    public static func checkSpan(_ interval: Interval, what: String) throws {
        try checkRange(interval, what: what)
        guard interval.duration <= maximumSpan else {
            let en = "\(what) longer than a year"
            throw MediationError(
                .invalidInput, en + "; deactivate the expert instead",
                fields: [FieldProblem(field: "to", en: en, zh: "不能超过一年；长期不能参加的专家请停用")])
        }
    }

    /// The weekly windows laid onto the wall-clock dates of `zone` that touch `range`, clipped to it.
    ///
    /// For example, Monday 09:00–12:00 in Asia/Shanghai over one week gives one three-hour interval.
    public static func expand(_ windows: [WeeklyWindow], in zone: Zone, over range: Interval) -> [Interval] {
        guard range.end > range.start else { return [] }
        let first = zone.wallClock(range.start).date.adding(days: -1)
        let last = zone.wallClock(range.end).date.adding(days: 1)
        var result: [Interval] = []
        var day = first
        while day <= last {
            for w in windows where w.weekday == day.weekday {
                let start = zone.instant(day, w.start)
                let end = w.end == .endOfDay ? zone.instant(day.adding(days: 1), .midnight) : zone.instant(day, w.end)
                result.append(Interval(start: start, end: end))
            }
            day = day.adding(days: 1)
        }
        return IntervalSet.intersect(IntervalSet.normalize(result), [range])
    }

    /// Free intervals of one expert in `range`: weekly hours plus extra availability, minus time off.
    public static func free(
        weekly: [WeeklyWindow], zone: Zone, extra: [Interval], timeOff: [Interval], range: Interval
    ) -> [Interval] {
        let base = expand(weekly, in: zone, over: range) + IntervalSet.intersect(extra, [range])
        return IntervalSet.subtract(IntervalSet.normalize(base), timeOff)
    }
}
