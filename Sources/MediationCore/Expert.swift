import Foundation

/// The angle an expert brings to a panel.
public enum ExpertRole: String, Sendable, Codable, CaseIterable {
    case legalOfficer = "legal_officer"
    case lawyer = "lawyer"
    case retiree = "retiree"
    case communityStaff = "community_staff"

    /// The Chinese name used in rosters.
    public var chinese: String {
        switch self {
        case .legalOfficer: "法制民警"
        case .lawyer: "律师"
        case .retiree: "退休干部"
        case .communityStaff: "综治专干"
        }
    }

    /// Reads the English code (also with spaces or dashes) or the Chinese name.
    public init?(parsing text: String) {
        if let role = ExpertRole(rawValue: text) {
            self = role
            return
        }
        let t = text.trimmingWhitespace().lowercased().replacingOccurrences(of: "-", with: "_")
            .replacingOccurrences(of: " ", with: "_")
        switch t {
        case "legal_officer", "法制民警", "民警": self = .legalOfficer
        case "lawyer", "律师", "专业律师": self = .lawyer
        case "retiree", "退休干部", "退休人员": self = .retiree
        case "community_staff", "综治专干", "街道社区综治专干", "社区综治专干": self = .communityStaff
        default: return nil
        }
    }

    public static let choices = "legal_officer (法制民警), lawyer (律师), retiree (退休干部), community_staff (综治专干)"
}

/// How an expert prefers to receive notices.
public enum ContactChannel: String, Sendable, Codable, CaseIterable {
    case email, sms, wecom, dingtalk

    public init?(parsing text: String) {
        let t = text.trimmingWhitespace().lowercased()
        switch t {
        case "email", "mail", "邮件", "邮箱", "电子邮件": self = .email
        case "sms", "短信", "手机", "mobile": self = .sms
        case "wecom", "企业微信", "wechat_work": self = .wecom
        case "dingtalk", "钉钉": self = .dingtalk
        default: return nil
        }
    }
}

/// A volunteer in the expert pool (调解专家库).
public struct Expert: Sendable, Hashable, Codable {
    /// Assigned by the store; 0 until stored.
    public var id: Int64
    public var name: String
    public var role: ExpertRole
    public var specialties: [String]
    public var languages: [String]
    /// True when the expert serves every office; `offices` is then empty.
    public var servesAllOffices: Bool
    public var offices: [String]
    public var email: String?
    public var mobile: String?
    public var wecomUserId: String?
    public var dingtalkMobile: String?
    public var preferredChannel: ContactChannel?
    public var timeZone: String
    public var maxSessionsPerDay: Int
    public var maxSessionsPerWeek: Int
    public var notes: String?
    public var active: Bool
    public var weeklyHours: [WeeklyWindow]

    public init(
        id: Int64 = 0, name: String, role: ExpertRole, specialties: [String] = [], languages: [String] = [],
        servesAllOffices: Bool = false, offices: [String] = [], email: String? = nil, mobile: String? = nil,
        wecomUserId: String? = nil, dingtalkMobile: String? = nil, preferredChannel: ContactChannel? = nil,
        timeZone: String = "Asia/Shanghai", maxSessionsPerDay: Int = 2, maxSessionsPerWeek: Int = 5,
        notes: String? = nil, active: Bool = true, weeklyHours: [WeeklyWindow] = []
    ) {
        self.id = id
        self.name = name
        self.role = role
        self.specialties = specialties
        self.languages = languages
        self.servesAllOffices = servesAllOffices
        self.offices = offices
        self.email = email
        self.mobile = mobile
        self.wecomUserId = wecomUserId
        self.dingtalkMobile = dingtalkMobile
        self.preferredChannel = preferredChannel
        self.timeZone = timeZone
        self.maxSessionsPerDay = maxSessionsPerDay
        self.maxSessionsPerWeek = maxSessionsPerWeek
        self.notes = notes
        self.active = active
        self.weeklyHours = weeklyHours
    }

    /// Checks every field and normalises tags, contacts and lists; returns the expert ready to store.
    /// Whether the named offices exist is checked by the store.
    ///
    /// - Throws: `invalidInput` listing every problem.
    public func validated() throws -> Expert {
        var e = self
        var problems = Problems()
        e.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if e.name.isEmpty {
            problems.add(
                FieldProblem(field: "name", en: "name is empty; give the expert's full name", zh: "请填写专家的姓名全称"))
        }
        if e.name.count > InputLimits.nameLength {
            problems.add(
                FieldProblem(
                    field: "name", en: "name is longer than \(InputLimits.nameLength) characters",
                    zh: "姓名不能超过 \(InputLimits.nameLength) 个字"))
        }
        e.specialties = Tag.normalize(specialties)
        e.languages = Tag.normalize(languages)
        e.offices = Array(
            Set(offices.map { $0.trimmingWhitespace().lowercased() }.filter { !$0.isEmpty })
        )
        .sorted()
        if servesAllOffices {
            e.offices = []
        } else if e.offices.isEmpty {
            problems.add(
                FieldProblem(
                    field: "offices",
                    en: "no office given; name the offices the expert serves (for example jinshan) or 'all'",
                    zh: "没有填写服务的警务室，请写专家服务的警务室（如 jinshan），或写“全部”"))
        }
        e.email = Text.nonEmpty(email)?.lowercased()
        if let email = e.email, !Contact.isEmail(email) {
            problems.add(
                FieldProblem(
                    field: "email", en: "email '\(email)' is not an email address (name@example.org)",
                    zh: "邮箱“\(email)”不是有效的邮箱地址，应写成 name@example.org 的形式"))
        }
        for (field, label, zhLabel, value, keyPath) in [
            ("mobile", "mobile", "手机号", mobile, \Expert.mobile),
            ("dingtalkMobile", "DingTalk mobile", "钉钉手机号", dingtalkMobile, \Expert.dingtalkMobile),
        ] {
            guard let raw = Text.nonEmpty(value) else {
                e[keyPath: keyPath] = nil
                continue
            }
            if let normal = Contact.normalizeMobile(raw) {
                e[keyPath: keyPath] = normal
            } else if raw.contains("*") {
                problems.add(
                    FieldProblem(
                        field: field,
                        en: "\(label) '\(raw)' is masked, not a phone number (an export without --reveal masks them); "
                            + "export with --reveal (roles in privacy.reveal_roles) to edit and import the roster",
                        zh: "\(zhLabel)“\(raw)”是打码后的号码，不是完整号码（不加 --reveal 导出的花名册会打码）；"
                            + "请用 --reveal 导出花名册（需 privacy.reveal_roles 中的角色）后再修改、导入"))
            } else {
                problems.add(
                    FieldProblem(
                        field: field,
                        en: "\(label) '\(raw)' is not a phone number (11 digits such as 13800138000, or +country code)",
                        zh: "\(zhLabel)“\(raw)”不正确，应为 11 位数字（如 13800138000），或以 + 和国家代码开头"))
            }
        }
        e.wecomUserId = Text.nonEmpty(wecomUserId)
        if e.mobile == nil && e.email == nil {
            problems.add(
                FieldProblem(
                    field: "mobile",
                    en: "neither mobile nor email given; give at least one so notices can reach the expert",
                    zh: "手机号和邮箱都没有填写，请至少填写一项，以便通知送达专家"))
        }
        if let channel = preferredChannel {
            let has: Bool
            let contactZh: String
            switch channel {
            case .email: (has, contactZh) = (e.email != nil, "邮箱")
            case .sms: (has, contactZh) = (e.mobile != nil, "手机号")
            case .wecom: (has, contactZh) = (e.wecomUserId != nil, "企业微信用户 ID")
            case .dingtalk: (has, contactZh) = (e.dingtalkMobile != nil || e.mobile != nil, "钉钉手机号或手机号")
            }
            if !has {
                problems.add(
                    FieldProblem(
                        field: "preferredChannel",
                        en: "preferred channel \(channel.rawValue) has no matching contact; add it or choose another",
                        zh: "首选渠道“\(Words.contactChannel(channel, .zh))”没有对应的联系方式，请填写\(contactZh)，或改选其他渠道"))
            }
        } else {
            e.preferredChannel = e.email != nil ? .email : .sms
        }
        do { e.timeZone = try Zone(timeZone).identifier } catch let err as MediationError { problems.add(err) }
        for (field, what, zhWhat, value, range) in [
            ("maxSessionsPerDay", "sessions per day", "每日场次上限", maxSessionsPerDay, InputLimits.sessionsPerDay),
            ("maxSessionsPerWeek", "sessions per week", "每周场次上限", maxSessionsPerWeek, InputLimits.sessionsPerWeek),
        ] {
            if value < range.lowerBound {
                problems.add(
                    FieldProblem(
                        field: field,
                        en: "\(what) \(value) is below \(range.lowerBound); use \(range.lowerBound) or more",
                        zh: "\(zhWhat)不能小于 \(range.lowerBound)，不能是 \(value)；请写 \(range.lowerBound) 或更大的数"))
            } else if value > range.upperBound {
                problems.add(
                    FieldProblem(
                        field: field, en: "\(what) \(value) is more than \(range.upperBound)",
                        zh: "\(zhWhat)不能超过 \(range.upperBound)，不能是 \(value)"))
            }
        }
        e.notes = Text.nonEmpty(notes)
        do { try WeeklyWindow.validate(weeklyHours, field: "weekly hours") } catch let err as MediationError {
            problems.add(err)
        }
        e.weeklyHours = weeklyHours.sorted()
        try problems.check("expert")
        return e
    }

    /// This expert as shown to someone who did not ask to see full numbers: the mobiles masked by the one rule
    /// for every person (`Contact.maskMobile`), as a party's are.
    public func masked() -> Expert {
        var e = self
        e.mobile = mobile.map(Contact.maskMobile)
        e.dingtalkMobile = dingtalkMobile.map(Contact.maskMobile)
        return e
    }
}

/// Tags such as specialties and languages are compared in one spelling: trimmed, lower case, `-` between words.
public enum Tag {
    public static func normalize(_ tags: [String]) -> [String] {
        // Tags read back from the store are clean already, and every slot search normalizes them again: a sorted
        // list of plain lower-case ASCII words joined by single hyphens is returned as it is.
        if tags.allSatisfy(isClean), zip(tags, tags.dropFirst()).allSatisfy({ $0 < $1 }) { return tags }
        let cleaned = tags.map { tag in
            let plain = tag.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
                .split(whereSeparator: { $0 == " " || $0 == "_" || $0 == "-" }).joined(separator: "-")
            // A specialty or category by its Chinese name is the same tag as its code (物业 is property).
            return Words.specialtyCodes[plain] ?? plain
        }
        return Array(Set(cleaned.filter { !$0.isEmpty })).sorted()
    }

    /// `a-z`, `0-9` and inner single hyphens only: what `normalize` makes of it is itself.
    private static func isClean(_ tag: String) -> Bool {
        var previous: UInt8 = 0x2D
        for byte in tag.utf8 {
            let letter = (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
            guard letter || (byte == 0x2D && previous != 0x2D) else { return false }
            previous = byte
        }
        return previous != 0x2D
    }
}

/// Contact details as people type them.
public enum Contact {
    /// `138 0013 8000`, `138-0013-8000` and `+86 13800138000` all become `13800138000`;
    /// other countries keep their `+` prefix.
    public static func normalizeMobile(_ text: String) -> String? {
        var digits = Text.halfWidth(text).filter { !" -()".contains($0) }
        let international = digits.hasPrefix("+")
        if international { digits.removeFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if international {
            if digits.hasPrefix("86") {
                digits.removeFirst(2)
            } else {
                return (7...15).contains(digits.count) ? "+" + digits : nil
            }
        }
        guard digits.count == 11, digits.hasPrefix("1") else { return nil }
        return digits
    }

    public static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."), !text.contains(" ")
        else { return false }
        return true
    }

    /// `13800138000` shown as `138****8000`: the one masking of a mobile, for parties and experts alike.
    public static func maskMobile(_ mobile: String) -> String {
        if mobile.hasPrefix("+86") && mobile.count > 10 { return "+86 " + maskMobile(String(mobile.dropFirst(3))) }
        guard mobile.count >= 7 else { return String(repeating: "*", count: mobile.count) }
        return String(mobile.prefix(3)) + String(repeating: "*", count: mobile.count - 7) + String(mobile.suffix(4))
    }
}
