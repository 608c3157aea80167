import Foundation

/// A community police office (警务室).
public struct Office: Sendable, Hashable, Codable {
    /// Short stable id such as `jinshan`.
    public var id: String
    public var name: String
    public var timeZone: String
    public var address: String?
    public var phone: String?
    public var workingHours: [WeeklyWindow]
    public var defaultSessionMinutes: Int
    /// Letters before dispute numbers (`JS` in `JS-2026-0042`); nil means the first two letters of the id.
    public var disputePrefix: String?

    public init(
        id: String, name: String, timeZone: String = "Asia/Shanghai", address: String? = nil, phone: String? = nil,
        workingHours: [WeeklyWindow] = Office.defaultWorkingHours, defaultSessionMinutes: Int = 90,
        disputePrefix: String? = nil
    ) {
        self.disputePrefix = disputePrefix
        self.id = id
        self.name = name
        self.timeZone = timeZone
        self.address = address
        self.phone = phone
        self.workingHours = workingHours
        self.defaultSessionMinutes = defaultSessionMinutes
    }

    /// Monday to Friday, 09:00–12:00 and 14:00–18:00.
    public static let defaultWorkingHours: [WeeklyWindow] = Weekday.allCases.prefix(5).flatMap { day in
        [
            WeeklyWindow(weekday: day, start: TimeOfDay(uncheckedMinutes: 540), end: TimeOfDay(uncheckedMinutes: 720)),
            WeeklyWindow(weekday: day, start: TimeOfDay(uncheckedMinutes: 840), end: TimeOfDay(uncheckedMinutes: 1080)),
        ]
    }

    /// Checks every field and normalises text; returns the office ready to store.
    ///
    /// - Throws: `invalidInput` listing every problem.
    public func validated() throws -> Office {
        var o = self
        var problems = Problems()
        o.id = id.trimmingWhitespace().lowercased()
        if !Office.isValidID(o.id) {
            problems.add(
                FieldProblem(
                    field: "id",
                    en: "office id '\(id)' must be 2–32 characters of a–z, 0–9 and '-', starting with a letter "
                        + "(for example jinshan)",
                    zh: "调解室编号“\(id)”须为 2–32 个小写字母、数字或“-”，以字母开头（如 jinshan）"))
        }
        o.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if o.name.isEmpty {
            problems.add(
                FieldProblem(
                    field: "name", en: "office name is empty; give the office's name, for example 金山警务室",
                    zh: "请填写调解室名称，如 金山警务室"))
        }
        do { o.timeZone = try Zone(timeZone).identifier } catch let e as MediationError { problems.add(e) }
        o.address = Text.nonEmpty(address)
        o.phone = Text.nonEmpty(phone)
        let minutes = InputLimits.defaultSessionMinutes
        if !minutes.contains(defaultSessionMinutes) {
            problems.add(
                FieldProblem(
                    field: "defaultSessionMinutes",
                    en: "default session length \(defaultSessionMinutes) minutes is outside "
                        + "\(minutes.lowerBound)–\(minutes.upperBound)",
                    zh: "默认调解时长 \(defaultSessionMinutes) 分钟不在 \(minutes.lowerBound)–\(minutes.upperBound) 分钟之间"))
        }
        do { try WeeklyWindow.validate(workingHours, field: "working hours") } catch let e as MediationError {
            problems.add(e)
        }
        o.workingHours = workingHours.sorted()
        o.disputePrefix = Text.nonEmpty(disputePrefix)?.uppercased()
        if let prefix = o.disputePrefix,
            !(1...4).contains(prefix.count) || !prefix.allSatisfy({ $0.isASCII && $0.isLetter })
        {
            problems.add(
                FieldProblem(
                    field: "disputePrefix", en: "dispute prefix '\(prefix)' must be 1–4 letters, for example JS",
                    zh: "纠纷编号前缀“\(prefix)”须为 1–4 个字母，如 JS"))
        }
        try problems.check("office")
        return o
    }

    /// The letters dispute numbers start with.
    public var numberPrefix: String { disputePrefix ?? String(id.prefix(2)).uppercased() }

    public static func isValidID(_ id: String) -> Bool {
        guard (2...32).contains(id.count), let first = id.first, first.isASCII, first.isLetter else { return false }
        return id.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }
}

/// Small text helpers shared by validation.
public enum Text {
    /// Full-width ASCII forms (a Chinese input method's `１３７`, `＋`, `．`, `－`, the ideographic space) made the
    /// plain characters they are: for numbers, mobiles, amounts and codes a person typed.
    public static func halfWidth(_ s: String) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.map { scalar in
                    switch scalar.value {
                    case 0xFF01...0xFF5E: Unicode.Scalar(scalar.value - 0xFEE0) ?? scalar
                    case 0x3000: " "
                    default: scalar
                    }
                }))
    }

    /// Trims, and turns an empty string into nil.
    public static func nonEmpty(_ s: String?) -> String? {
        guard let t = s?.trimmingCharacters(in: .whitespacesAndNewlines), !t.isEmpty else { return nil }
        return t
    }

    /// What is wrong with a piece of typed text, or nil: longer than `max` characters, or holding control
    /// characters (a NUL, an escape; line breaks and tabs only where `multiline`).
    public static func problem(_ value: String?, _ field: String, max: Int, multiline: Bool = false) -> String? {
        guard let value else { return nil }
        if value.count > max {
            return "\(field) is \(value.count) characters long; keep it to \(max)"
        }
        let allowed: Set<Unicode.Scalar> = multiline ? ["\n", "\t", "\r"] : []
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && !allowed.contains($0) })
        {
            return "\(field) holds a control character (such as a NUL or an escape); type it again as plain text"
        }
        return nil
    }

    /// `problem` for a typed field, in both languages: `label` and `zhLabel` name it to the reader.
    public static func problem(
        _ value: String?, field: String, _ label: String, _ zhLabel: String, max: Int, multiline: Bool = false
    ) -> FieldProblem? {
        guard let value, let en = problem(value, label, max: max, multiline: multiline) else { return nil }
        let zh =
            value.count > max
            ? "\(zhLabel)有 \(value.count) 个字，请不超过 \(max) 个字" : "\(zhLabel)含有控制字符，请重新以普通文字输入"
        return FieldProblem(field: field, en: en, zh: zh)
    }

    /// `problem` as an `invalidInput` error, in both languages (`the reason` is 理由 to a Chinese reader).
    public static func check(_ value: String?, _ field: String, max: Int, multiline: Bool = false) throws {
        let zhLabel = ["the reason": "理由", "the risk reason": "调整风险的理由", "organisation": "单位"][field] ?? "“\(field)”"
        if let problem = problem(value, field: "general", field, zhLabel, max: max, multiline: multiline) {
            throw MediationError.said(.invalidInput, en: problem.en, zh: problem.zh)
        }
    }

    /// The form's key for a field as the CLI or a message names it: `--from` is `from`, `working hours` is
    /// `workingHours`, `the start` is `start`.
    public static func fieldKey(_ field: String) -> String {
        var words = field.drop { $0 == "-" }.split(separator: " ")
        if words.count > 1, words[0] == "the" { words.removeFirst() }
        return words.enumerated().map { i, w in i == 0 ? String(w) : w.prefix(1).uppercased() + w.dropFirst() }
            .joined()
    }

    /// Splits a list written by a person: `a|b`, `a; b`, `a, b`, `甲、乙`.
    public static func splitList(_ s: String) -> [String] {
        s.split(whereSeparator: { "|;,、，；".contains($0) }).map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty }
    }
}
