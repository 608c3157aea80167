import Foundation

/// Dates and times as people type them, read in one place for every time the API and the CLI accept.
///
/// For example, with today 2026-12-07:
/// ```swift
/// TimeText.read("2026/12/9", today: today)            // .day(2026-12-09)
/// TimeText.read("12月9日 14:30", today: today)        // .wallClock(2026-12-09, 14:30)
/// TimeText.read("2026年12月9日 周三 14:30", today: today)  // the form the notices print
/// TimeText.read("14:30", today: today)                // .wallClock(2026-12-07, 14:30)
/// TimeText.read("12/9", today: today)                 // .ambiguous: 9 December or 12 September?
/// ```
///
/// The forms: a date with its year first (`2026-12-09`, `2026-12-9`, `2026/12/09`, `2026.12.9`) or in Chinese
/// (`2026年12月9日`, `12月9日`, `12月9号`); then, optionally, its weekday (`周三`, `星期三`, which must be the date's)
/// and a time of day (`14:30`, `14:30:00`, `1430`), which may carry an offset (`Z`, `+08:00`); `T` may join date and
/// time. A time alone (`14:30`) means today. A date without its year means the one nearest today (so `1月3日`
/// typed in late December is next January's). Numbers without a year first (`12/9`, `9.12.2026`, `26-12-09`)
/// are ambiguous and refused.
public enum TimeText {
    /// What a text says, before any zone is applied.
    public enum Reading: Equatable, Sendable {
        case day(LocalDate)
        case wallClock(LocalDate, TimeOfDay)
        case instant(Date)
        /// Numbers whose order is a guess (`12/9`).
        case ambiguous
        /// A weekday that is not the date's (`2026年12月9日 周二`): the date's own weekday.
        case wrongWeekday(LocalDate)
        case unreadable
    }

    /// The forms accepted for a time read in `zone`, for messages.
    public static func timeForms(in zone: String) -> String {
        "2026-12-09, 2026-12-09 14:30, 2026/12/9 14:30, 12月9日 14:30, 2026年12月9日 14:30 or 14:30 (today), "
            + "in \(zone); or 2026-12-09T14:30+08:00"
    }
    /// The forms accepted for a day, for messages.
    public static let dayForms = "2026-12-09, 2026/12/9, 2026-12-9, 12月9日 or 2026年12月9日"

    /// Reads `text`.
    ///
    /// - Parameters:
    ///   - today: the reader's date, for a time alone and a date without its year; nil refuses both forms.
    public static func read(_ text: String, today: LocalDate?) -> Reading {
        let t = normalized(text)
        guard !t.isEmpty else { return .unreadable }
        if t.contains("月") || t.contains("年") { return readChinese(t, today: today) }
        // A date, then (after a space or a T) what follows it; or a time alone.
        let firstSplit = t.firstIndex { $0 == " " || $0 == "T" }
        let head = firstSplit.map { String(t[..<$0]) } ?? t
        let tail = firstSplit.map { String(t[t.index(after: $0)...]) } ?? ""
        // `2026-12-07T` promises a time and gives none.
        if firstSplit != nil && tail.isEmpty { return .unreadable }
        if head.contains("-") || head.contains("/") || head.contains(".") {
            switch numericDate(head) {
            case .some(.some(let date)): return readTail(date: date, tail)
            case .some(nil): return .ambiguous
            case nil: return .unreadable
            }
        }
        // A time alone, which needs its colon: `2026` or `1430` alone reads as nothing.
        guard firstSplit == nil, t.contains(":"), let today else { return .unreadable }
        guard let time = TimeOfDay(parsing: withoutZeroSeconds(t) ?? "") else { return .unreadable }
        return .wallClock(today, time)
    }

    /// A day only: the date forms, refusing a time of day.
    ///
    /// - Throws: `invalidInput` naming `field` and listing the accepted forms.
    public static func day(_ text: String, field: String, today: LocalDate?) throws -> LocalDate {
        switch read(text, today: today) {
        case .day(let date): return date
        case .wallClock, .instant:
            let typed = text.trimmingWhitespace()
            throw MediationError.said(
                .invalidInput, field: Text.fieldKey(field),
                en: "\(field) '\(typed)' has a time of day; give the day alone; write \(dayForms)",
                zh: "“\(typed)”带有时刻，这里只填日期，如 2026-12-09 或 12月9日")
        case let other: throw problem(other, text: text, field: field, forms: dayForms)
        }
    }

    /// The error for a reading that is not a time: ambiguous, a wrong weekday, or unreadable.
    static func problem(_ reading: Reading, text: String, field: String, forms: String) -> MediationError {
        let shown = text.trimmingWhitespace()
        let examples = forms == dayForms ? "2026-12-09 或 12月9日" : "2026-12-09 14:30 或 12月9日 14:30"
        switch reading {
        case .ambiguous:
            return .said(
                .invalidInput, field: Text.fieldKey(field),
                en: "\(field) '\(shown)' is ambiguous (is 12/9 the 9th of December or the 12th of September?); "
                    + "write the year first: \(forms)",
                zh: "“\(shown)”无法确定是哪一天（12/9 是 12月9日 还是 9月12日？），请把年份写在前面，如 \(examples)")
        case .wrongWeekday(let date):
            return .said(
                .invalidInput, field: Text.fieldKey(field),
                en: "\(field) '\(shown)': \(date) is a \(date.weekday.chinese), not the weekday written; "
                    + "check the date, or leave the weekday out",
                zh: "“\(shown)”：\(date) 是\(date.weekday.chinese)，与所写的星期不符，请核对日期，或不写星期")
        default:
            return .said(
                .invalidInput, field: Text.fieldKey(field),
                en: "\(field) '\(shown)' is not a date or time; write \(forms)",
                zh: "“\(shown)”不是日期或时间，请写成 \(examples) 的形式")
        }
    }

    // MARK: - Pieces

    /// Trimmed, with full-width digits and punctuation made plain and runs of spaces made one.
    static func normalized(_ text: String) -> String {
        var out = ""
        var lastWasSpace = false
        for ch in text.trimmingCharacters(in: .whitespacesAndNewlines) {
            var c = ch
            if let scalar = ch.unicodeScalars.first, ch.unicodeScalars.count == 1 {
                switch scalar.value {
                case 0xFF10...0xFF19: c = Character(UnicodeScalar(scalar.value - 0xFF10 + 0x30) ?? "0")
                case 0xFF1A: c = ":"
                case 0xFF0F: c = "/"
                case 0xFF0D: c = "-"
                case 0xFF0B: c = "+"
                case 0x3000, 0x09: c = " "
                default: break
                }
            }
            if c == " " {
                if lastWasSpace { continue }
                lastWasSpace = true
            } else {
                lastWasSpace = false
            }
            out.append(c)
        }
        return out
    }

    /// `2026-12-09`, `2026-12-9`, `2026/12/09`, `2026.12.9`: the date, or `.some(nil)` for numbers whose order is
    /// a guess (`12/9`, `9/12/2026`, `26-12-09`), or nil for anything else.
    static func numericDate(_ text: String) -> LocalDate?? {
        let separators: Set<Character> = ["-", "/", "."]
        let groups = text.split(omittingEmptySubsequences: false) { separators.contains($0) }
        let used = Set(text.filter { separators.contains($0) })
        guard (2...3).contains(groups.count),
            groups.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return nil }
        guard groups.count == 3, groups[0].count == 4, used.count == 1, groups[1].count <= 2, groups[2].count <= 2,
            let y = Int(groups[0]), let m = Int(groups[1]), let d = Int(groups[2])
        else {
            // Year first with a bad shape (`2026-123-1`, `2026-12`) is simply wrong; anything else is a guess.
            return groups[0].count == 4 ? nil : .some(nil)
        }
        guard let date = LocalDate(year: y, month: m, day: d) else { return nil }
        return .some(date)
    }

    /// `[YYYY年]M月D日|号`, then the tail.
    static func readChinese(_ t: String, today: LocalDate?) -> Reading {
        var rest = Substring(t)
        func number() -> Int? {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard (1...4).contains(digits.count) else { return nil }
            rest = rest.dropFirst(digits.count).drop { $0 == " " }
            return Int(digits)
        }
        func take(_ marks: Set<Character>) -> Bool {
            guard let c = rest.first, marks.contains(c) else { return false }
            rest = rest.dropFirst().drop { $0 == " " }
            return true
        }
        guard let first = number() else { return .unreadable }
        var year: Int?
        var month = first
        if take(["年"]) {
            year = first
            guard let m = number() else { return .unreadable }
            month = m
        }
        guard take(["月"]), let day = number(), take(["日", "号"]) else { return .unreadable }
        let date: LocalDate
        if let year {
            guard let d = LocalDate(year: year, month: month, day: day) else { return .unreadable }
            date = d
        } else {
            guard let today, let d = nearest(month: month, day: day, to: today) else { return .unreadable }
            date = d
        }
        return readTail(date: date, String(rest))
    }

    /// The date with this month and day nearest `today` (the later one on a tie), last year, this year or next.
    static func nearest(month: Int, day: Int, to today: LocalDate) -> LocalDate? {
        let candidates = [today.year - 1, today.year, today.year + 1].compactMap {
            LocalDate(year: $0, month: month, day: day)
        }
        return candidates.min { a, b in
            let da = abs(a.dayNumber - today.dayNumber)
            let db = abs(b.dayNumber - today.dayNumber)
            return da != db ? da < db : a > b
        }
    }

    /// After a date: nothing, or a weekday (`周三`, `星期三`), then a time with an optional offset.
    static func readTail(date: LocalDate, _ text: String) -> Reading {
        var t = Substring(text.trimmingWhitespace())
        if t.hasPrefix("周") || t.hasPrefix("星期") || t.hasPrefix("(") || t.hasPrefix("（") {
            let opened = t.first == "(" || t.first == "（"
            if opened { t = t.dropFirst() }
            let word = t.prefix { $0 != " " && $0 != ")" && $0 != "）" && !($0.isASCII && $0.isNumber) }
            guard let weekday = Weekday(parsing: String(word)) else { return .unreadable }
            t = t.dropFirst(word.count)
            if opened {
                guard t.first == ")" || t.first == "）" else { return .unreadable }
                t = t.dropFirst()
            }
            if weekday != date.weekday { return .wrongWeekday(date) }
            t = Substring(t.trimmingWhitespace())
        }
        if t.isEmpty { return .day(date) }
        var clock = String(t)
        var offset: Int?
        if clock.hasSuffix("Z") {
            clock.removeLast()
            offset = 0
        } else if let sign = clock.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            guard let parsed = TimeOfDay(parsing: String(clock[clock.index(after: sign)...])) else {
                return .unreadable
            }
            offset = (clock[sign] == "-" ? -1 : 1) * parsed.minutes * 60
            clock = String(clock[..<sign])
        }
        guard let plain = withoutZeroSeconds(clock), let time = TimeOfDay(parsing: plain) else { return .unreadable }
        guard let off = offset else { return .wallClock(date, time) }
        return .instant(Date(timeIntervalSince1970: Double(date.dayNumber * 86400 + time.minutes * 60 - off)))
    }

    /// `09:30:00` (or `09:30:00.250`) as `09:30`; nil when the seconds are not zero: the domain works in minutes.
    static func withoutZeroSeconds(_ clock: String) -> String? {
        let parts = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return clock }
        guard parts[2] == "00" || parts[2].hasPrefix("00.") else { return nil }
        return parts[0] + ":" + parts[1]
    }
}
