import Foundation

/// How a party wants to be told (`party add --channel`): by SMS, by mail, or not by the system at all (staff tell
/// them in person or by phone). Unset: whatever personal channel reaches them.
public enum PartyChannel: String, Sendable, Codable, CaseIterable {
    case sms, email
    /// Not told by the system: staff tell them in person or by phone (`none` as typed and stored).
    case byStaff = "none"

    /// Reads `sms`, `mail`, `email`, `none` and the Chinese words (短信, 邮件, 不通知).
    public init?(parsing text: String) {
        switch text.trimmingWhitespace().lowercased() {
        case "sms", "短信", "手机", "mobile": self = .sms
        case "mail", "email", "邮件", "邮箱", "电子邮件": self = .email
        case "none", "不通知", "无", "不发送": self = .byStaff
        default: return nil
        }
    }

    /// The channel a notice prefers (nil for `byStaff`, whose notices are not queued).
    public var contact: ContactChannel? {
        switch self {
        case .sms: .sms
        case .email: .email
        case .byStaff: nil
        }
    }
}

/// Which personal channels the running configuration has: mail always (SMTP, or the maildir spool of the embedded
/// default), SMS when a gateway is configured (`sms.provider`, or a relay as `webhook.personal: true`), WeCom and
/// DingTalk only as application messages to one member (`wecom.corp_id`, `dingtalk.app_key`; a group robot is never
/// personal).
public struct PersonalChannels: Sendable, Equatable {
    public var mail: Bool
    public var sms: Bool
    public var wecom: Bool
    public var dingtalk: Bool

    public init(mail: Bool = true, sms: Bool = false, wecom: Bool = false, dingtalk: Bool = false) {
        self.mail = mail
        self.sms = sms
        self.wecom = wecom
        self.dingtalk = dingtalk
    }

    /// Mail only: the embedded default.
    public static let mailOnly = PersonalChannels()

    func has(_ channel: ContactChannel) -> Bool {
        switch channel {
        case .email: mail
        case .sms: sms
        case .wecom: wecom
        case .dingtalk: dingtalk
        }
    }
}

/// The one rule for whether a person can be told personally, and on which channels in which order: the person's
/// preference first, then mail, WeCom, DingTalk, SMS — each only when the configuration has it as a personal
/// channel and the person has the address it needs. The outbox dispatcher routes personal messages by it; `party
/// add`, `expert add`, a booking's answer, the dashboard and `status` say by it who cannot be told.
public enum Reach {
    /// The personal channels that reach someone with these addresses, in the order they are tried.
    public static func route(
        email: String?, mobile: String?, wecomUser: String?, dingtalkMobile: String?, preference: ContactChannel?,
        available: PersonalChannels
    ) -> [ContactChannel] {
        func reaches(_ c: ContactChannel) -> Bool {
            guard available.has(c) else { return false }
            switch c {
            case .email: return Text.nonEmpty(email) != nil
            case .sms: return Text.nonEmpty(mobile) != nil
            case .wecom: return Text.nonEmpty(wecomUser) != nil
            case .dingtalk: return Text.nonEmpty(dingtalkMobile) != nil
            }
        }
        var order: [ContactChannel] = []
        for c in [preference].compactMap({ $0 }) + [.email, .wecom, .dingtalk, .sms] where !order.contains(c) {
            if reaches(c) { order.append(c) }
        }
        return order
    }

    /// Why nobody can tell this party personally, in both languages with what to do; nil when someone can.
    public static func unreachable(_ party: Party, _ available: PersonalChannels) -> FieldProblem? {
        if party.channel == .byStaff {
            return FieldProblem(
                field: "channel",
                en: "\(party.name) chose not to be told by the system (channel none): tell them by phone or in person",
                zh: "\(party.name) 选择不接收系统通知，请电话或当面告知")
        }
        let route = Reach.route(
            email: party.email, mobile: party.mobile, wecomUser: nil, dingtalkMobile: nil,
            preference: party.channel?.contact, available: available)
        if let chosen = party.channel?.contact, !route.contains(chosen) {
            return chosen == .sms ? noSMS(party.name, hasMobile: party.mobile != nil, available) : noMail(party.name)
        }
        guard route.isEmpty else { return nil }
        return party.mobile != nil ? noSMS(party.name, hasMobile: true, available) : noMail(party.name)
    }

    /// Why nobody can tell this expert personally; nil when someone can.
    public static func unreachable(_ expert: Expert, _ available: PersonalChannels) -> FieldProblem? {
        unreachableExpert(
            name: expert.name, email: expert.email, mobile: expert.mobile, wecomUser: expert.wecomUserId,
            dingtalkMobile: expert.dingtalkMobile, preference: expert.preferredChannel, available: available)
    }

    /// The same for an expert's name and addresses alone (a listing that reads only those).
    public static func unreachableExpert(
        name: String, email: String?, mobile: String?, wecomUser: String?, dingtalkMobile: String?,
        preference: ContactChannel?, available: PersonalChannels
    ) -> FieldProblem? {
        // An expert is a member of the office's DingTalk by their DingTalk mobile, else their mobile; a party never.
        let route = Reach.route(
            email: email, mobile: mobile, wecomUser: wecomUser, dingtalkMobile: dingtalkMobile ?? mobile,
            preference: preference, available: available)
        guard route.isEmpty else { return nil }
        return mobile != nil ? noSMS(name, hasMobile: true, available) : noMail(name)
    }

    private static func noMail(_ name: String) -> FieldProblem {
        FieldProblem(
            field: "channel",
            en: "\(name) has no email and no other personal channel reaches them: add an email, or a mobile once an "
                + "SMS gateway is configured; until then tell them by phone",
            zh: "\(name) 没有邮箱，也没有其他能单独通知本人的渠道：请补充邮箱（或在配置短信网关后填写手机号），在此之前请电话告知")
    }

    private static func noSMS(_ name: String, hasMobile: Bool, _ available: PersonalChannels) -> FieldProblem {
        guard available.sms else {
            return FieldProblem(
                field: "channel",
                en: "\(name) can be reached only by SMS, and this daemon has no SMS gateway (sms.provider): "
                    + "add an email, or configure the gateway; until then tell them by phone",
                zh: "\(name) 只能用短信通知，但本系统没有配置短信网关：请补充邮箱或配置短信网关，在此之前请电话告知")
        }
        return FieldProblem(
            field: "channel", en: "\(name) chose SMS but has no mobile: add their mobile",
            zh: "\(name) 选择短信通知，但没有手机号：请补充手机号")
    }
}

/// Someone a change should tell who cannot be told personally, and why: a booking's answer, the dashboard and
/// `status` list them so staff tell them another way.
public struct Unreached: Sendable, Equatable {
    public var kind: RecipientKind
    public var id: Int64
    public var name: String
    public var why: FieldProblem

    public init(kind: RecipientKind, id: Int64, name: String, why: FieldProblem) {
        self.kind = kind
        self.id = id
        self.name = name
        self.why = why
    }
}
