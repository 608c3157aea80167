import Foundation

/// An ISO 8601 week such as `2026-W49`: Monday to Sunday, week 1 holding the year's first Thursday.
public struct ISOWeek: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let year: Int
    public let week: Int

    /// Reads exactly `YYYY-Www` (`2026-W49`; a lower-case `w` is accepted). `2026-49`, `W49` and weeks the year
    /// does not have (`2026-W54`, `2025-W53`) are not.
    public init?(parsing text: String) {
        let t = Array(text.trimmingWhitespace().uppercased())
        guard t.count == 8, t[4] == "-", t[5] == "W", t[0..<4].allSatisfy({ $0.isASCII && $0.isNumber }),
            t[6..<8].allSatisfy({ $0.isASCII && $0.isNumber }), let y = Int(String(t[0..<4])),
            let w = Int(String(t[6..<8]))
        else { return nil }
        guard (1900...2200).contains(y), (1...ISOWeek.weeks(in: y)).contains(w) else { return nil }
        year = y
        week = w
    }

    /// Reads a week as `init(parsing:)` does.
    ///
    /// - Throws: `invalidInput` quoting the text and the accepted form.
    public static func parse(_ text: String, field: String = "--week") throws -> ISOWeek {
        guard let week = ISOWeek(parsing: text) else {
            throw MediationError.said(
                .invalidInput, field: Text.fieldKey(field),
                en: "\(field) '\(text)' is not an ISO week; write it like 2026-W49 (weeks 01 to 52 or 53)",
                zh: "“\(text)”不是周次，请写成 2026-W49 的形式（第 01 至 52 或 53 周）")
        }
        return week
    }

    /// The week holding `date`.
    public init(containing date: LocalDate) {
        let thursday = date.adding(days: 4 - date.weekday.rawValue)
        let jan1 = LocalDate(dayNumber: thursday.dayNumber - ISOWeek.dayOfYear(thursday) + 1)
        year = thursday.year
        week = (thursday.dayNumber - jan1.dayNumber) / 7 + 1
    }

    private static func dayOfYear(_ d: LocalDate) -> Int {
        guard let jan1 = LocalDate(year: d.year, month: 1, day: 1) else { return 1 }
        return d.dayNumber - jan1.dayNumber + 1
    }

    /// 52 or 53.
    public static func weeks(in year: Int) -> Int {
        func p(_ y: Int) -> Int { (y + y / 4 - y / 100 + y / 400) % 7 }
        return p(year) == 4 || p(year - 1) == 3 ? 53 : 52
    }

    /// The week's Monday.
    public var monday: LocalDate {
        guard let jan4 = LocalDate(year: year, month: 1, day: 4) else { return LocalDate(dayNumber: 0) }
        return jan4.adding(days: -(jan4.weekday.rawValue - 1) + (week - 1) * 7)
    }

    public var sunday: LocalDate { monday.adding(days: 6) }
    public func adding(weeks n: Int) -> ISOWeek { ISOWeek(containing: monday.adding(days: 7 * n)) }
    public var description: String { String(format: "%04d-W%02d", year, week) }
    public static func < (a: ISOWeek, b: ISOWeek) -> Bool { a.monday < b.monday }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = ISOWeek(parsing: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "bad week \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A closed range of days, `--from 2026-10-01 --to 2026-12-31`, in an office's zone.
public struct DayRange: Sendable, Hashable, Codable {
    public var from: LocalDate
    public var to: LocalDate

    /// Reads both days as `TimeText.day` does (`2026-10-01`, `2026/10/1`, `10月1日` …).
    ///
    /// - Parameter today: the reader's date, for a day written without its year.
    /// - Throws: `invalidInput` for a date that cannot be read or `from` after `to`.
    public init(from: String, to: String, today: LocalDate?) throws {
        try self.init(
            from: try TimeText.day(from, field: "--from", today: today),
            to: try TimeText.day(to, field: "--to", today: today))
    }

    public init(from: LocalDate, to: LocalDate) throws {
        guard from <= to else {
            throw MediationError.said(
                .invalidInput, field: "from",
                en: "--from \(from) is after --to \(to); give the earlier date with --from",
                zh: "开始日期 \(from) 晚于结束日期 \(to)，请把较早的日期填在前面")
        }
        guard to.dayNumber - from.dayNumber <= 3660 else {
            throw MediationError.said(
                .invalidInput, field: "to", en: "the range \(from) to \(to) is longer than ten years",
                zh: "\(from) 至 \(to) 超过十年，请缩短日期范围")
        }
        self.from = from
        self.to = to
    }

    /// The instants from the start of `from` to the end of `to` in `zone`.
    public func interval(in zone: Zone) -> Interval {
        Interval(start: zone.instant(from, .midnight), end: zone.instant(to.adding(days: 1), .midnight))
    }
}
