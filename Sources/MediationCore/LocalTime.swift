import Foundation

/// A day of the week, ISO numbering (Monday = 1).
public enum Weekday: Int, Sendable, Codable, CaseIterable, Comparable {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    /// The short English name used on the wire and in the roster (`mon`).
    public var code: String { ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][rawValue - 1] }
    /// The Chinese name used in the roster (`周一`).
    public var chinese: String { ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][rawValue - 1] }

    /// Reads `mon`, `monday`, `Mon`, `周一`, `星期一`, or `1`…`7`.
    public init?(parsing text: String) {
        let t = text.trimmingWhitespace().lowercased()
        let english = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        let long = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        let chineseDigits = ["一", "二", "三", "四", "五", "六", "日"]
        if let i = english.firstIndex(of: t) ?? long.firstIndex(of: t) {
            self.init(rawValue: i + 1)
        } else if let n = Int(t), (1...7).contains(n) {
            self.init(rawValue: n)
        } else if t == "周天" || t == "星期天" {
            self = .sunday
        } else if let i = chineseDigits.firstIndex(where: { t == "周\($0)" || t == "星期\($0)" }) {
            self.init(rawValue: i + 1)
        } else {
            return nil
        }
    }

    public static func < (a: Weekday, b: Weekday) -> Bool { a.rawValue < b.rawValue }
}

/// A wall-clock time of day in minutes since midnight; 24:00 is allowed as the end of a day.
public struct TimeOfDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let minutes: Int

    public init?(minutes: Int) {
        guard (0...1440).contains(minutes) else { return nil }
        self.minutes = minutes
    }

    /// Reads `9:00`, `09:00`, `0900` or `24:00`.
    public init?(parsing text: String) {
        let t = text.trimmingWhitespace().replacingOccurrences(of: "：", with: ":")
        guard t.allSatisfy({ $0 == ":" || ($0.isASCII && $0.isNumber) }) else { return nil }
        let parts = t.split(separator: ":", omittingEmptySubsequences: false)
        var h: Int?
        var m: Int?
        if parts.count == 2 {
            h = Int(parts[0])
            m = parts[1].count == 2 ? Int(parts[1]) : nil
        } else if parts.count == 1, t.count == 4, t.allSatisfy(\.isASCII) {
            h = Int(t.prefix(2))
            m = Int(t.suffix(2))
        }
        guard let hour = h, let minute = m, (0...24).contains(hour), (0...59).contains(minute),
            hour < 24 || minute == 0
        else { return nil }
        self.minutes = hour * 60 + minute
    }

    public var description: String { padded(minutes / 60, 2) + ":" + padded(minutes % 60, 2) }
    public static func < (a: TimeOfDay, b: TimeOfDay) -> Bool { a.minutes < b.minutes }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = TimeOfDay(parsing: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "bad time \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A calendar date without a zone (proleptic Gregorian).
public struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), (1...31).contains(day), (1900...2200).contains(year) else { return nil }
        let candidate = LocalDate(unchecked: year, month, day)
        // Round-trip through the day number rejects 31 April and 29 February of common years.
        guard LocalDate(dayNumber: candidate.dayNumber) == candidate else { return nil }
        self = candidate
    }

    private init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Reads a date with its year: `2026-12-07`, and the other forms `TimeText` reads (`2026/12/7`, `2026-12-7`,
    /// `2026年12月7日`). A date without its year needs today: `TimeText.day(_:field:today:)`.
    public init?(parsing text: String) {
        let parts = text.trimmingWhitespace().split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
        {
            self.init(year: y, month: m, day: d)
            return
        }
        guard case .day(let date) = TimeText.read(text, today: nil) else { return nil }
        self = date
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public init(dayNumber: Int) {
        let z = dayNumber + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(unchecked: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public var weekday: Weekday {
        // 1970-01-01 was a Thursday.
        let w = ((dayNumber % 7) + 7 + 3) % 7  // 0 = Monday
        return Weekday(rawValue: w + 1) ?? .monday
    }

    public func adding(days: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }
    public var description: String { padded(year, 4) + "-" + padded(month, 2) + "-" + padded(day, 2) }
    public static func < (a: LocalDate, b: LocalDate) -> Bool { a.dayNumber < b.dayNumber }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = LocalDate(parsing: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "bad date \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// A lock around the zones already checked.
private final class ZoneCache: @unchecked Sendable {
    private let lock = NSLock()
    private var zones: [String: Zone] = [:]

    func withLock<T>(_ body: (inout [String: Zone]) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&zones)
    }
}

/// Conversions between instants and wall-clock times in an IANA zone, with explicit DST rules:
/// a wall time that does not exist (spring forward) moves forward by the gap; a wall time that
/// occurs twice (fall back) means its first occurrence.
public struct Zone: Sendable, Hashable {
    public let identifier: String
    public let timeZone: TimeZone

    /// Validates an IANA identifier such as `Asia/Shanghai`.
    ///
    /// - Throws: `invalidInput` naming the zone and how to fix it.
    public init(_ identifier: String) throws {
        // Checking a name against Foundation's list builds the list: the zones already checked are remembered.
        if let known = Zone.checked.withLock({ $0[identifier] }) {
            self = known
            return
        }
        let id = identifier.trimmingWhitespace()
        if let known = Zone.checked.withLock({ $0[id] }) {
            self = known
            return
        }
        guard id == "UTC" || TimeZone.knownTimeZoneIdentifiers.contains(id) || Zone.inSystemDatabase(id),
            let tz = TimeZone(identifier: id)
        else {
            throw MediationError.said(
                .invalidInput, field: "timeZone",
                en: "time zone '\(identifier)' is not a known IANA zone; "
                    + "use a name such as Asia/Shanghai, Asia/Urumqi or Europe/Berlin",
                zh: "时区“\(identifier)”无法识别，请写 Asia/Shanghai、Asia/Urumqi 这样的名称")
        }
        self.identifier = id
        self.timeZone = tz
        let zone = self
        Zone.checked.withLock { $0[id] = zone }
    }

    /// Zones that passed the check, by identifier (a few dozen at most: the tz database is finite).
    private static let checked = ZoneCache()

    /// Foundation's list lags the tz database (it lacks Asia/Kolkata, for one): a zone file the system has counts.
    static func inSystemDatabase(_ id: String) -> Bool {
        guard id.contains("/"), !id.contains(".."), id.first?.isUppercase == true else { return false }
        return FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/" + id)
    }

    public static let shanghai: Zone = {
        // The tz database always has Asia/Shanghai; the fallback only keeps this free of force-unwraps.
        (try? Zone("Asia/Shanghai")) ?? (try? Zone("UTC")) ?? Zone(unchecked: "UTC")
    }()

    private init(unchecked id: String) {
        identifier = id
        timeZone = TimeZone(secondsFromGMT: 0) ?? TimeZone.current
    }

    public func offset(at instant: Date) -> Int { timeZone.secondsFromGMT(for: instant) }

    /// The instant at which the wall clock in this zone shows `date` `time`.
    public func instant(_ date: LocalDate, _ time: TimeOfDay) -> Date {
        let wall = Double(date.dayNumber * 86400 + time.minutes * 60)
        let before = offset(at: Date(timeIntervalSince1970: wall - 86400))
        let after = offset(at: Date(timeIntervalSince1970: wall + 86400))
        let valid = [before, after].map { wall - Double($0) }.filter {
            Double(offset(at: Date(timeIntervalSince1970: $0))) == wall - $0
        }
        if let first = valid.min() { return Date(timeIntervalSince1970: first) }
        // In a gap: read the wall time with the offset in force before the jump, which lands after it.
        return Date(timeIntervalSince1970: wall - Double(before))
    }

    /// The wall-clock date and minutes-of-day at `instant`.
    public func wallClock(_ instant: Date) -> (date: LocalDate, minutes: Int) {
        let seconds = Int((instant.timeIntervalSince1970).rounded(.down)) + offset(at: instant)
        let day = Int((Double(seconds) / 86400).rounded(.down))
        return (LocalDate(dayNumber: day), (seconds - day * 86400) / 60)
    }

    /// RFC 3339 with this zone's offset, for example `2026-12-07T09:00:00+08:00`.
    public func format(_ instant: Date) -> String {
        let (date, minutes) = wallClock(instant)
        let off = offset(at: instant)
        let sign = off < 0 ? "-" : "+"
        let a = abs(off) / 60
        return date.description + "T" + padded(minutes / 60, 2) + ":" + padded(minutes % 60, 2) + ":00" + sign
            + padded(a / 60, 2) + ":" + padded(a % 60, 2)
    }

    /// `format`, with the seconds (`2026-12-07T09:30:15+08:00`): for when something happened, not a planned time.
    public func formatToTheSecond(_ instant: Date) -> String {
        let text = format(instant)
        let second = Int(instant.timeIntervalSince1970.rounded(.down)) + offset(at: instant)
        let seconds = ((second % 60) + 60) % 60
        // `format` writes `:00` for the seconds, at offset 16 of `2026-12-07T09:30:00+08:00`.
        guard text.count > 19 else { return text }
        return String(text.prefix(17)) + padded(seconds, 2) + String(text.dropFirst(19))
    }

    /// Reads a time given by a person, in any form `TimeText` reads: `2026-12-07` (the start of that day, or its
    /// end when `endOfDay`), `2026-12-07 09:30`, `2026/12/7 9:30`, `12月7日 09:30`, `2026年12月7日 周一 09:30` or
    /// `09:30` (today, at `now` in this zone), all wall clock in this zone; or RFC 3339 with an offset or `Z`.
    ///
    /// - Throws: `invalidInput` naming the field and the accepted forms (an ambiguous `12/9` says so).
    public func parseInstant(_ text: String, field: String, endOfDay: Bool = false, now: Date) throws -> Date {
        switch Self.readTime(text, today: wallClock(now).date) {
        case .day(let date):
            return endOfDay ? instant(date.adding(days: 1), TimeOfDay.midnight) : instant(date, TimeOfDay.midnight)
        case .wallClock(let date, let time): return instant(date, time)
        case .instant(let instant): return instant
        case let other:
            throw TimeText.problem(other, text: text, field: field, forms: TimeText.timeForms(in: identifier))
        }
    }

    /// The instant `text` names when it carries its own offset (`2026-12-07T09:30Z`, `…+08:00`), which no zone
    /// can change; nil when it needs a zone to be read, or cannot be read (`parseInstant` then says why).
    public static func explicitInstant(_ text: String) -> Date? {
        if case .instant(let instant) = readTime(text, today: nil) { return instant }
        return nil
    }

    /// A session's start as typed, read once: `explicitInstant`, after refusing a bare date (which would otherwise
    /// mean its midnight).
    ///
    /// - Throws: `invalidInput` naming the field and showing the form to use.
    public static func startInstant(_ text: String, field: String) throws -> Date? {
        // Only the kind of text matters here, so any day serves as "today" for the forms that need one.
        switch readTime(text, today: LocalDate(dayNumber: 0)) {
        case .day:
            let typed = text.trimmingWhitespace()
            throw MediationError.said(
                .invalidInput, field: Text.fieldKey(field),
                en: "\(field) '\(typed)' is a day without a time; give the time too, such as '\(typed) 14:00'",
                zh: "“\(typed)”只有日期，请同时填写时间，如 \(typed) 14:00")
        case .instant(let instant): return instant
        default: return nil
        }
    }

    /// What a typed time says, before any zone is applied.
    typealias TypedTime = TimeText.Reading

    static func readTime(_ text: String, today: LocalDate?) -> TypedTime {
        readStrictTime(text) ?? TimeText.read(text, today: today)
    }

    /// The strict forms the API and the CLI send (`2026-12-07T09:30`, with `:00`, `Z` or `+08:00`), read byte by
    /// byte: every booking reads one, and Foundation's trimming and splitting cost more than the rest of the
    /// request's parsing. Nil for anything else, which `readAnyTime` reads (or rejects) the long way.
    static func readStrictTime(_ text: String) -> TypedTime? {
        let parsed = text.utf8.withContiguousStorageIfAvailable { b -> TypedTime? in
            func number(_ at: Int, _ count: Int) -> Int? {
                guard at + count <= b.count else { return nil }
                var value = 0
                for i in at..<(at + count) {
                    guard (0x30...0x39).contains(b[i]) else { return nil }
                    value = value * 10 + Int(b[i] - 0x30)
                }
                return value
            }
            func clock(_ hours: Int, _ minutes: Int) -> Int? {
                (0...24).contains(hours) && (0...59).contains(minutes) && (hours < 24 || minutes == 0)
                    ? hours * 60 + minutes : nil
            }
            guard b.count >= 16, let year = number(0, 4), b[4] == 0x2D, let month = number(5, 2), b[7] == 0x2D,
                let day = number(8, 2), b[10] == 0x54 || b[10] == 0x20, let hours = number(11, 2), b[13] == 0x3A,
                let mins = number(14, 2), let date = LocalDate(year: year, month: month, day: day),
                let wall = clock(hours, mins), let time = TimeOfDay(minutes: wall)
            else { return nil }
            var i = 16
            // Seconds, which must be zero (a fraction after them is ignored, as the long way does).
            if i < b.count, b[i] == 0x3A {
                guard number(i + 1, 2) == 0 else { return nil }
                i += 3
                if i < b.count, b[i] == 0x2E {
                    i += 1
                    let first = i
                    while i < b.count, (0x30...0x39).contains(b[i]) { i += 1 }
                    guard i > first else { return nil }
                }
            }
            let local = date.dayNumber * 86400 + wall * 60
            if i == b.count { return .wallClock(date, time) }
            if b[i] == 0x5A, i + 1 == b.count { return .instant(Date(timeIntervalSince1970: Double(local))) }
            guard b[i] == 0x2B || b[i] == 0x2D, i + 6 == b.count, let h = number(i + 1, 2), b[i + 3] == 0x3A,
                let m = number(i + 4, 2), let offset = clock(h, m)
            else { return nil }
            return .instant(Date(timeIntervalSince1970: Double(local - (b[i] == 0x2D ? -1 : 1) * offset * 60)))
        }
        return parsed ?? nil
    }

    /// Every form `parseInstant` documents that needs no today; nil for what is not a time.
    static func readAnyTime(_ text: String) -> TypedTime? {
        switch TimeText.read(text, today: nil) {
        case .day, .wallClock, .instant: return TimeText.read(text, today: nil)
        default: return nil
        }
    }
}

extension TimeOfDay {
    public static let midnight = TimeOfDay(uncheckedMinutes: 0)
    public static let endOfDay = TimeOfDay(uncheckedMinutes: 1440)
    init(uncheckedMinutes: Int) { self.minutes = uncheckedMinutes }
}

/// `n` in decimal with leading zeros up to `width` digits, like `%0*d`. By hand: `String(format:)` goes through
/// Foundation's formatter, and every time shown in an API answer passes here.
func padded(_ n: Int, _ width: Int) -> String {
    let digits = String(n.magnitude)
    let zeros = String(repeating: "0", count: max(0, width - digits.count - (n < 0 ? 1 : 0)))
    return (n < 0 ? "-" : "") + zeros + digits
}

extension StringProtocol {
    /// `trimmingCharacters(in: .whitespaces)`, without Foundation's bridging when both ends are plain ASCII that
    /// is not a space or a tab: the usual case, on paths every request takes (a dispute number, a time, a policy).
    public func trimmingWhitespace() -> String {
        if let first = first, let last = last, first.isASCII, last.isASCII, first != " ", first != "\t", last != " ",
            last != "\t"
        {
            return String(self)
        }
        return trimmingCharacters(in: .whitespaces)
    }
}
