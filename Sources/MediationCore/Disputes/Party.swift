import Foundation

/// Which side of a dispute a party is on.
public enum PartySide: String, Sendable, Codable, CaseIterable {
    case applicant, respondent, other

    /// Reads the English word or 申请人 / 被申请人 / 其他.
    public init?(parsing text: String) {
        switch text.trimmingWhitespace().lowercased() {
        case "applicant", "申请人", "申请方": self = .applicant
        case "respondent", "被申请人", "被申请方", "对方": self = .respondent
        case "other", "其他", "第三方": self = .other
        default: return nil
        }
    }
}

/// A person in a dispute, with when they can attend.
public struct Party: Sendable, Hashable, Codable {
    public var id: Int64
    public var disputeId: Int64
    public var name: String
    public var side: PartySide
    public var mobile: String?
    public var email: String?
    /// Stored in full; shown masked except to a role allowed to reveal who asks.
    public var idCard: String?
    public var organisation: String?
    public var language: String?
    public var timeZone: String
    public var weeklyWindows: [WeeklyWindow]
    public var datedWindows: [Interval]
    /// How they want to be told (`Reach` decides whether anyone can); nil: any personal channel that reaches them.
    public var channel: PartyChannel?

    public init(
        id: Int64 = 0, disputeId: Int64 = 0, name: String, side: PartySide, mobile: String? = nil,
        email: String? = nil, idCard: String? = nil, organisation: String? = nil, language: String? = nil,
        timeZone: String = "Asia/Shanghai", weeklyWindows: [WeeklyWindow] = [], datedWindows: [Interval] = [],
        channel: PartyChannel? = nil
    ) {
        self.channel = channel
        self.id = id
        self.disputeId = disputeId
        self.name = name
        self.side = side
        self.mobile = mobile
        self.email = email
        self.idCard = idCard
        self.organisation = organisation
        self.language = language
        self.timeZone = timeZone
        self.weeklyWindows = weeklyWindows
        self.datedWindows = datedWindows
    }

    /// Checks and normalises the fields.
    ///
    /// - Throws: `invalidInput` listing every problem.
    public func validated() throws -> Party {
        var p = self
        var problems = Problems()
        p.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if p.name.isEmpty {
            problems.add(FieldProblem(field: "name", en: "party name is empty", zh: "请填写当事人姓名"))
        }
        if let raw = Text.nonEmpty(mobile) {
            if let normal = Contact.normalizeMobile(raw) {
                p.mobile = normal
            } else {
                problems.add(
                    FieldProblem(
                        field: "mobile", en: "mobile '\(raw)' is not a phone number (11 digits such as 13800138000)",
                        zh: "手机号“\(raw)”不正确，应为 11 位数字，如 13800138000"))
            }
        } else {
            p.mobile = nil
        }
        p.email = Text.nonEmpty(email)?.lowercased()
        if let e = p.email, !Contact.isEmail(e) {
            problems.add(
                FieldProblem(field: "email", en: "email '\(e)' is not an email address", zh: "邮箱“\(e)”不是有效的邮箱地址"))
        }
        if let raw = Text.nonEmpty(idCard) {
            if let normal = IDCard.normalize(raw) {
                p.idCard = normal
            } else {
                problems.add(
                    FieldProblem(
                        field: "idCard",
                        en: "ID-card number '\(IDCard.mask(raw))' is not valid (18 characters, the last a digit or X, "
                            + "with a correct check digit)",
                        zh: "身份证号“\(IDCard.mask(raw))”不正确（18 位，最后一位为数字或 X，校验位须正确）"))
            }
        } else {
            p.idCard = nil
        }
        p.organisation = Text.nonEmpty(organisation)
        p.language = Text.nonEmpty(language)
        for (field, label, zh, value, max) in [
            ("name", "party name", "当事人姓名", p.name, InputLimits.nameLength),
            ("organisation", "organisation", "单位", p.organisation, InputLimits.organisationLength),
            ("language", "language", "语言", p.language, InputLimits.languageLength),
        ] {
            if let problem = Text.problem(value, field: field, label, zh, max: max) { problems.add(problem) }
        }
        do { p.timeZone = try Zone(timeZone).identifier } catch let e as MediationError {
            problems.add(
                FieldProblem(field: "timeZone", en: e.message, zh: "时区“\(timeZone)”无法识别，请写 Asia/Shanghai 这样的名称"))
        }
        do { try WeeklyWindow.validate(weeklyWindows, field: "weekly windows") } catch let e as MediationError {
            for item in e.details.isEmpty ? [e.message] : e.details {
                problems.add(FieldProblem(field: "hours", en: item, zh: "每周可参加的时间段有重叠或先后颠倒，请把较早的时间写在前面"))
            }
        }
        p.weeklyWindows = weeklyWindows.sorted()
        for w in datedWindows where w.end <= w.start {
            problems.add(
                FieldProblem(
                    field: "dated", en: "a dated window ends before it starts; write the earlier time first",
                    zh: "某个具体时段的结束早于开始，请把较早的时间写在前面"))
        }
        p.datedWindows = IntervalSet.normalize(datedWindows)
        try problems.check("party")
        return p
    }

    /// When the party can attend inside `range`: weekly windows in their zone plus dated windows.
    /// A party who gave no windows at all can attend any time.
    ///
    /// - Throws: `invalidInput` when the party's zone is not a known one (`validated()` checks it): a party's
    ///   hours are never read in another zone.
    public func free(in range: Interval) throws -> [Interval] {
        guard !weeklyWindows.isEmpty || !datedWindows.isEmpty else { return [range] }
        let zone = try Zone(timeZone)
        return IntervalSet.normalize(
            AvailabilityResolver.expand(weeklyWindows, in: zone, over: range)
                + IntervalSet.intersect(datedWindows, [range]))
    }

    /// Whether `other` is this person entered again: the same name and the same mobile (neither having one counts
    /// as the same), unless both carry ID-card numbers that differ. Both as `validated()` leaves them.
    public func isSamePerson(as other: Party) -> Bool {
        guard name == other.name, mobile == other.mobile else { return false }
        if let a = idCard, let b = other.idCard, a != b { return false }
        return true
    }

    /// How a party is named in a message anyone may read: `李明 (party #3, applicant, 137****0001)`.
    public var maskedLabel: String {
        "\(name) (party #\(id), \(side.rawValue)" + (mobile.map { ", " + Contact.maskMobile($0) } ?? "") + ")"
    }

    /// The error for a party entered twice in `dispute`, naming the one already there.
    public static func enteredTwice(_ existing: Party, dispute: String) -> MediationError {
        .said(
            .conflict, field: "name",
            en: "dispute \(dispute) already has \(existing.maskedLabel) with the same name and mobile; "
                + "change that party instead ('dispute show \(dispute)' lists the parties)",
            zh: "纠纷 \(dispute) 已有姓名和手机号相同的当事人 \(existing.name)（#\(existing.id)，"
                + Words.side(existing.side, .zh) + (existing.mobile.map { "，" + Contact.maskMobile($0) } ?? "")
                + "）；请修改那位当事人，不要重复添加（'mediationctl dispute show \(dispute)' 列出当事人）")
    }

    /// This party as shown to someone who did not ask to see full numbers: the mobile masked by the one rule for
    /// every person (`Contact.maskMobile`), as an expert's is, and the ID number.
    public func masked() -> Party {
        var p = self
        p.mobile = mobile.map(Contact.maskMobile)
        p.idCard = idCard.map(IDCard.mask)
        return p
    }
}

/// The resident identity card number (GB 11643): 17 digits and a check character.
public enum IDCard {
    /// Upper-cases the check character and verifies it; nil when the number is not valid.
    public static func normalize(_ text: String) -> String? {
        let t = text.trimmingWhitespace().uppercased()
        let chars = Array(t)
        guard chars.count == 18, chars.prefix(17).allSatisfy({ $0.isASCII && $0.isNumber }),
            let last = chars.last, last == "X" || (last.isASCII && last.isNumber)
        else { return nil }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(chars.prefix(17), weights).reduce(0) { $0 + (Int(String($1.0)) ?? 0) * $1.1 }
        let check = Array("10X98765432")[sum % 11]
        return check == last ? t : nil
    }

    /// `430103199001011234` shown as `4301**********1234`.
    public static func mask(_ number: String) -> String {
        guard number.count > 8 else { return String(repeating: "*", count: number.count) }
        return String(number.prefix(4)) + String(repeating: "*", count: number.count - 8) + String(number.suffix(4))
    }
}

/// An expert's relation to a party or an organisation: such an expert is never proposed for that dispute.
public struct Conflict: Sendable, Hashable, Codable {
    public var id: Int64
    public var expertId: Int64
    /// A party of one dispute …
    public var partyId: Int64?
    /// … or an organisation, matched against every party's organisation.
    public var organisation: String?
    public var reason: String?

    public init(id: Int64 = 0, expertId: Int64, partyId: Int64? = nil, organisation: String? = nil, reason: String?) {
        self.id = id
        self.expertId = expertId
        self.partyId = partyId
        self.organisation = organisation
        self.reason = reason
    }

    /// True when this conflict concerns one of `parties`.
    public func concerns(_ parties: [Party]) -> Bool {
        parties.contains { party in
            if let partyId, partyId == party.id { return true }
            if let organisation, let theirs = party.organisation {
                return Conflict.sameOrganisation(organisation, theirs)
            }
            return false
        }
    }

    /// Organisations compared without case and spaces, so "XX 物业公司" and "xx物业公司" match.
    public static func sameOrganisation(_ a: String, _ b: String) -> Bool {
        func key(_ s: String) -> String { s.lowercased().filter { !$0.isWhitespace } }
        return key(a) == key(b)
    }
}
