import Foundation

/// A recurring span of wall-clock time on one weekday, such as Monday 09:00–12:00.
public struct WeeklyWindow: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var weekday: Weekday
    public var start: TimeOfDay
    public var end: TimeOfDay

    public init(weekday: Weekday, start: TimeOfDay, end: TimeOfDay) {
        self.weekday = weekday
        self.start = start
        self.end = end
    }

    public var description: String { "\(weekday.code) \(start)-\(end)" }

    /// Every day, all day: the hours of a session booked outside the office's hours (`--outside-hours`).
    public static let wholeWeek: [WeeklyWindow] = Weekday.allCases.map {
        WeeklyWindow(weekday: $0, start: .midnight, end: .endOfDay)
    }

    public static func < (a: WeeklyWindow, b: WeeklyWindow) -> Bool {
        (a.weekday.rawValue, a.start.minutes) < (b.weekday.rawValue, b.start.minutes)
    }

    /// Checks that every window ends after it starts and that no two windows on a day overlap.
    ///
    /// - Throws: `invalidInput` listing every bad window.
    public static func validate(_ windows: [WeeklyWindow], field: String) throws {
        var problems = Problems()
        for w in windows where w.end <= w.start {
            problems.add(
                FieldProblem(
                    field: Text.fieldKey(field),
                    en:
                        "\(field): \(w.weekday.code) \(w.start)-\(w.end) ends before it starts; write the earlier time first",
                    zh: "\(w.weekday.chinese) \(w.start)-\(w.end) 的结束早于开始，请把较早的时间写在前面"))
        }
        let sorted = windows.filter { $0.end > $0.start }.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.weekday == b.weekday && b.start < a.end {
            problems.add(
                FieldProblem(
                    field: Text.fieldKey(field),
                    en: "\(field): \(a) overlaps \(b); merge them into one range or fix the times",
                    zh: "\(a.weekday.chinese) \(a.start)-\(a.end) 与 \(b.start)-\(b.end) 重叠，请合并为一段或修改时间"))
        }
        try problems.check(field)
    }

    /// Reads the compact form used by the roster and the CLI:
    /// `mon 09:00-12:00 14:00-17:00; wed,fri 19:00-21:00; 周六 09:00-11:30`; `mon-fri 09:00-18:00` is a range of days.
    ///
    /// - Throws: `invalidInput` quoting the part that could not be read.
    public static func parseList(_ text: String, field: String) throws -> [WeeklyWindow] {
        var result: [WeeklyWindow] = []
        let groups = text.replacingOccurrences(of: "；", with: ";").split(separator: ";")
        for rawGroup in groups {
            var group = rawGroup.replacingOccurrences(of: "，", with: ",").replacingOccurrences(of: "：", with: ":")
            // Dashes and words people use between two times: – — － ～ ~ 至 到.
            for dash in ["–", "—", "－", "～", "~", "至", "到"] { group = group.replacingOccurrences(of: dash, with: "-") }
            let tokens = group.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let dayToken = tokens.first else { continue }
            let days = try parseDays(dayToken, field: field)
            let ranges = tokens.dropFirst().flatMap { $0.split(separator: ",").map(String.init) }
            guard !ranges.isEmpty else {
                let typed = group.trimmingWhitespace()
                throw MediationError.said(
                    .invalidInput, field: Text.fieldKey(field),
                    en: "\(field): '\(typed)' names days but no hours; write for example 'mon 09:00-12:00'",
                    zh: "“\(typed)”只写了星期，没有写时间，请写成 周一 09:00-12:00 的形式")
            }
            for range in ranges {
                let ends = range.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard ends.count == 2, let start = TimeOfDay(parsing: ends[0]), let end = TimeOfDay(parsing: ends[1])
                else {
                    throw MediationError.said(
                        .invalidInput, field: Text.fieldKey(field),
                        en: "\(field): '\(range)' is not a time range; write HH:MM-HH:MM, for example 09:00-12:00",
                        zh: "“\(range)”不是时间段，请写成 09:00-12:00 的形式")
                }
                for day in days { result.append(WeeklyWindow(weekday: day, start: start, end: end)) }
            }
        }
        return result.sorted()
    }

    private static func parseDays(_ token: String, field: String) throws -> [Weekday] {
        var days: [Weekday] = []
        for part in token.split(separator: ",") {
            let bounds = part.split(separator: "-").map(String.init)
            if bounds.count == 2, let a = Weekday(parsing: bounds[0]), let b = Weekday(parsing: bounds[1]), a <= b {
                days += (a.rawValue...b.rawValue).compactMap(Weekday.init(rawValue:))
            } else if bounds.count == 1, let d = Weekday(parsing: bounds[0]) {
                days.append(d)
            } else {
                throw MediationError.said(
                    .invalidInput, field: Text.fieldKey(field),
                    en: "\(field): '\(part)' is not a weekday; use mon, tue, wed, thu, fri, sat, sun or 周一…周日",
                    zh: "“\(part)”不是星期，请写 周一…周日 或 mon…sun")
            }
        }
        return days
    }

    /// The compact form that `parseList` reads, grouped by day.
    public static func format(_ windows: [WeeklyWindow]) -> String {
        let byDay = Dictionary(grouping: windows.sorted(), by: \.weekday)
        return Weekday.allCases.compactMap { day in
            guard let list = byDay[day] else { return nil }
            return day.code + " " + list.map { "\($0.start)-\($0.end)" }.joined(separator: " ")
        }.joined(separator: "; ")
    }
}
