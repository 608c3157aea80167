import Configuration
import Foundation
import MediationCore
import MediationNotify

/// The `notices.*`, `smtp.*`, `webhook.*`, `wecom.*` and `dingtalk.*` keys, checked.
struct NoticeConfiguration: Sendable {
    var settings: NoticeSettings
    /// Minutes before each session (`notices.reminders`).
    var reminders: [Int]
    var templatesDirectory: String
    var retry: RetryPolicy
    /// `maildir` or `smtp`.
    var mailTransport: String
    var smtp: SMTPSettings?
    var webhook: WebhookTarget?
    /// Whether the webhook delivers each message to its one recipient (`webhook.personal`, an SMS gateway) rather
    /// than into a group or a shared system (the default).
    var webhookIsPersonal = false
    var wecom: RobotTarget?
    var dingtalk: RobotTarget?
    /// An SMS gateway account (`sms.*`).
    var sms: SMSSettings?
    /// WeCom and DingTalk applications for personal messages (`wecom.corp_id`, `dingtalk.app_key` and theirs).
    var wecomApp: WorkChatAppSettings?
    var dingtalkApp: WorkChatAppSettings?

    static let keys: [String: ConfigurationSchema.Shape] = [
        "notices.from": .value, "notices.office_email": .value, "notices.domain": .value, "notices.language": .value,
        "notices.templates": .value, "notices.reminders": .list, "notices.quiet_hours": .value,
        "notices.email": .value, "notices.retry.max_attempts": .value, "notices.retry.base_seconds": .value,
        "notices.retry.max_seconds": .value, "smtp.host": .value, "smtp.port": .value, "smtp.security": .value,
        "smtp.username": .value, "smtp.password": .value, "smtp.password_file": .value, "smtp.ca_file": .value,
        "smtp.verify_certificates": .value, "smtp.helo": .value, "smtp.timeout_seconds": .value, "webhook.url": .value,
        "webhook.secret": .value, "webhook.personal": .value,
        "webhook.secret_file": .value, "wecom.url": .value, "dingtalk.url": .value, "dingtalk.secret": .value,
        "dingtalk.secret_file": .value, "sms.provider": .value, "sms.endpoint": .value, "sms.key_id": .value,
        "sms.key_secret": .value, "sms.key_secret_file": .value, "sms.app_id": .value, "sms.region": .value,
        "sms.sign_name": .value, "sms.templates.notice": .value, "sms.templates.update": .value,
        "sms.templates.cancel": .value, "sms.templates.reminder": .value, "sms.concurrency": .value,
        "wecom.corp_id": .value, "wecom.secret": .value, "wecom.secret_file": .value, "wecom.agent_id": .value,
        "wecom.api": .value, "dingtalk.app_key": .value, "dingtalk.app_secret": .value,
        "dingtalk.app_secret_file": .value, "dingtalk.agent_id": .value, "dingtalk.api": .value,
    ]

    // swiftlint:disable:next function_body_length
    static func read(_ c: ConfigReader) throws -> NoticeConfiguration {
        let from = try address(
            c.string(forKey: "notices.from", default: "调解协调 Mediation Coordinator <mediation@localhost>"),
            key: "notices.from")
        let officeEmail = Text.nonEmpty(c.string(forKey: "notices.office_email"))
        if let officeEmail, !officeEmail.contains("@") {
            throw MediationError.invalidInput("notices.office_email '\(officeEmail)' is not a mail address")
        }
        let domain = c.string(forKey: "notices.domain", default: "mediation.local")
        guard !domain.isEmpty, domain.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else {
            throw MediationError.invalidInput(
                "notices.domain '\(domain)' is not a domain name", hint: "write for example mediation.jinshan.example")
        }
        let language = c.string(forKey: "notices.language", default: "zh").lowercased()
        guard ["zh", "en"].contains(language) else {
            throw MediationError.invalidInput("notices.language '\(language)' is unknown", hint: "use zh or en")
        }
        var reminders: [Int] = []
        for text in c.stringArray(forKey: "notices.reminders", default: ["24h", "1h"]) {
            guard let m = duration(text), m > 0, m <= 30 * 1440 else {
                throw MediationError.invalidInput(
                    "notices.reminders: '\(text)' is not a time before the session",
                    hint: "write for example 24h, 90m or 2d")
            }
            reminders.append(m)
        }
        let quiet = c.string(forKey: "notices.quiet_hours", default: "22:00-07:00")
        var quietStart: Int?
        var quietEnd: Int?
        if quiet.lowercased() != "none" {
            let parts = quiet.split(separator: "-").map { $0.trimmingWhitespace() }
            guard parts.count == 2, let a = TimeOfDay(parsing: parts[0]), let b = TimeOfDay(parsing: parts[1]) else {
                throw MediationError.invalidInput(
                    "notices.quiet_hours '\(quiet)' is not a range of times", hint: "write 22:00-07:00, or none")
            }
            quietStart = a.minutes
            quietEnd = b.minutes
        }
        let retry = RetryPolicy(
            maxAttempts: try c.wholeNumber("notices.retry.max_attempts", default: 8, in: 1...100),
            baseSeconds: Double(try c.wholeNumber("notices.retry.base_seconds", default: 30, in: 1...86400)),
            maxSeconds: Double(try c.wholeNumber("notices.retry.max_seconds", default: 3600, in: 1...604_800)))
        let transport = c.string(forKey: "notices.email", default: "maildir").lowercased()
        guard ["maildir", "smtp"].contains(transport) else {
            throw MediationError.invalidInput("notices.email '\(transport)' is unknown", hint: "use maildir or smtp")
        }
        var smtp: SMTPSettings?
        if let host = Text.nonEmpty(c.string(forKey: "smtp.host")) {
            let securityText = c.string(forKey: "smtp.security", default: "starttls").lowercased()
            guard let security = SMTPSettings.Security(rawValue: securityText) else {
                throw MediationError.invalidInput(
                    "smtp.security '\(securityText)' is unknown", hint: "use starttls, tls (port 465) or none")
            }
            let verifyText = c.string(forKey: "smtp.verify_certificates", default: "true").lowercased()
            guard ["true", "false", "yes", "no"].contains(verifyText) else {
                throw MediationError.invalidInput("smtp.verify_certificates '\(verifyText)' is not true or false")
            }
            let password = try secret(
                c.string(forKey: "smtp.password", isSecret: true), file: c.string(forKey: "smtp.password_file"),
                key: "smtp.password")
            let username = Text.nonEmpty(c.string(forKey: "smtp.username"))
            if username != nil && password == nil {
                throw MediationError.invalidInput(
                    "smtp.username is set but no password", hint: "set smtp.password_file (or smtp.password)")
            }
            if let ca = Text.nonEmpty(c.string(forKey: "smtp.ca_file")), !FileManager.default.fileExists(atPath: ca) {
                throw MediationError.invalidInput("smtp.ca_file '\(ca)' does not exist")
            }
            smtp = SMTPSettings(
                host: host, port: try c.wholeNumber("smtp.port", default: security == .tls ? 465 : 587, in: 1...65535),
                security: security, username: username, password: password,
                caFile: Text.nonEmpty(c.string(forKey: "smtp.ca_file")),
                verifyCertificates: verifyText == "true" || verifyText == "yes",
                heloName: c.string(forKey: "smtp.helo", default: "localhost"),
                timeoutSeconds: try c.wholeNumber("smtp.timeout_seconds", default: 30, in: 1...600))
        }
        if transport == "smtp" && smtp == nil {
            throw MediationError.invalidInput(
                "notices.email is smtp but smtp.host is not set", hint: "set smtp.host (and port), or use maildir")
        }
        var webhook: WebhookTarget?
        if let url = Text.nonEmpty(c.string(forKey: "webhook.url")) {
            try checkURL(url, key: "webhook.url")
            guard
                let s = try secret(
                    c.string(forKey: "webhook.secret", isSecret: true), file: c.string(forKey: "webhook.secret_file"),
                    key: "webhook.secret")
            else {
                throw MediationError.invalidInput(
                    "webhook.url is set but no secret to sign with", hint: "set webhook.secret_file (or webhook.secret)"
                )
            }
            webhook = WebhookTarget(url: url, secret: s)
        }
        let personalText = c.string(forKey: "webhook.personal", default: "false").lowercased()
        guard ["true", "false", "yes", "no"].contains(personalText) else {
            throw MediationError.invalidInput(
                "webhook.personal '\(personalText)' is not true or false",
                hint: "true only when the webhook delivers each message to its one recipient (an SMS gateway); "
                    + "false when it posts into a group or a shared system")
        }
        var wecom: RobotTarget?
        if let url = Text.nonEmpty(c.string(forKey: "wecom.url")) {
            try checkURL(url, key: "wecom.url")
            wecom = RobotTarget(kind: .wecom, url: url)
        }
        var dingtalk: RobotTarget?
        if let url = Text.nonEmpty(c.string(forKey: "dingtalk.url")) {
            try checkURL(url, key: "dingtalk.url")
            dingtalk = RobotTarget(
                kind: .dingtalk, url: url,
                secret: try secret(
                    c.string(forKey: "dingtalk.secret", isSecret: true), file: c.string(forKey: "dingtalk.secret_file"),
                    key: "dingtalk.secret"))
        }
        let sms = try readSMS(c)
        let wecomApp = try readApp(c, kind: .wecom)
        let dingtalkApp = try readApp(c, kind: .dingtalk)
        return NoticeConfiguration(
            settings: NoticeSettings(
                from: from, officeEmail: officeEmail, domain: domain, defaultLanguage: language,
                quietStartMinutes: quietStart, quietEndMinutes: quietEnd),
            reminders: reminders,
            templatesDirectory: c.string(forKey: "notices.templates", default: "Config/templates"),
            retry: retry, mailTransport: transport, smtp: smtp, webhook: webhook,
            webhookIsPersonal: personalText == "true" || personalText == "yes", wecom: wecom, dingtalk: dingtalk,
            sms: sms, wecomApp: wecomApp, dingtalkApp: dingtalkApp)
    }

    /// `sms.*`: nil unless `sms.provider` is set; then every key the provider needs, or a refusal naming it.
    static func readSMS(_ c: ConfigReader) throws -> SMSSettings? {
        guard let providerText = Text.nonEmpty(c.string(forKey: "sms.provider")) else { return nil }
        guard let provider = SMSSettings.Provider(rawValue: providerText.lowercased()) else {
            throw MediationError.invalidInput(
                "sms.provider '\(providerText)' is unknown", hint: "use aliyun (Alibaba Cloud SMS) or tencent")
        }
        func required(_ key: String, _ hint: String) throws -> String {
            guard let v = Text.nonEmpty(c.string(forKey: ConfigKey(key))) else {
                throw MediationError.invalidInput(
                    "sms.provider is \(provider.rawValue) but \(key) is not set", hint: hint)
            }
            return v
        }
        let keyId = try required(
            "sms.key_id", provider == .aliyun ? "the AccessKey ID of a RAM user allowed to send SMS" : "the SecretId")
        guard
            let keySecret = try secret(
                c.string(forKey: "sms.key_secret", isSecret: true), file: c.string(forKey: "sms.key_secret_file"),
                key: "sms.key_secret")
        else {
            throw MediationError.invalidInput(
                "sms.provider is \(provider.rawValue) but no key secret is set",
                hint: "set sms.key_secret_file (or sms.key_secret)")
        }
        let appId: String? =
            provider == .tencent ? try required("sms.app_id", "the SmsSdkAppId of the SMS application (1400…)") : nil
        let signName = try required("sms.sign_name", "the approved signature name (签名), without 【】")
        var templates: [String: String] = [:]
        for kind in SMSSettings.templateKinds {
            templates[kind] = try required(
                "sms.templates.\(kind)",
                "every kind of message needs an approved template with the parameters number, time and link "
                    + "(\(SMSSettings.templateKinds.joined(separator: ", ")))")
        }
        let endpoint = Text.nonEmpty(c.string(forKey: "sms.endpoint"))
        if let endpoint { try checkURL(endpoint, key: "sms.endpoint") }
        return SMSSettings(
            provider: provider, endpoint: endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
            keyId: keyId, keySecret: keySecret, appId: appId,
            region: c.string(forKey: "sms.region", default: "ap-guangzhou"), signName: signName, templates: templates,
            concurrency: try c.wholeNumber("sms.concurrency", default: 16, in: 1...64))
    }

    /// `wecom.corp_id`/`dingtalk.app_key` and theirs: nil unless the first is set.
    static func readApp(_ c: ConfigReader, kind: WorkChatAppSettings.Kind) throws -> WorkChatAppSettings? {
        let (idKey, secretKey) =
            kind == .wecom ? ("wecom.corp_id", "wecom.secret") : ("dingtalk.app_key", "dingtalk.app_secret")
        let prefix = kind.rawValue
        guard let id = Text.nonEmpty(c.string(forKey: ConfigKey(idKey))) else { return nil }
        guard
            let secret = try secret(
                c.string(forKey: ConfigKey(secretKey), isSecret: true),
                file: c.string(forKey: ConfigKey(secretKey + "_file")),
                key: secretKey)
        else {
            throw MediationError.invalidInput(
                "\(idKey) is set but no secret",
                hint: "set \(secretKey)_file (or \(secretKey)): the application's secret")
        }
        guard let agentText = Text.nonEmpty(c.string(forKey: ConfigKey("\(prefix).agent_id"))) else {
            throw MediationError.invalidInput(
                "\(idKey) is set but \(prefix).agent_id is not", hint: "give the application's AgentId (a number)")
        }
        guard let agent = Int(Text.halfWidth(agentText)), agent > 0 else {
            throw MediationError.invalidInput("\(prefix).agent_id '\(agentText)' is not a number")
        }
        let api = Text.nonEmpty(c.string(forKey: ConfigKey("\(prefix).api")))
        if let api { try checkURL(api, key: "\(prefix).api") }
        return WorkChatAppSettings(
            kind: kind, api: api.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }, key: id, secret: secret,
            agentId: agent)
    }

    /// The channels, built; the mail channel writes to `spool` unless SMTP is chosen.
    func channels(spool: String) -> ChannelSet {
        // The HTTP client (and its threads) exists only when a channel needs it.
        let sender: ChannelSender? = webhook == nil && wecom == nil && dingtalk == nil ? nil : ChannelSender()
        let mail: any NotificationChannel =
            if mailTransport == "smtp", let smtp { SMTPChannel(settings: smtp) } else {
                MaildirChannel(directory: spool)
            }
        return ChannelSet(
            mail: mail,
            webhook: sender.flatMap { s in
                webhook.map { WebhookChannel(target: $0, sender: s, reach: webhookIsPersonal ? .personal : .shared) }
            },
            wecom: sender.flatMap { s in wecom.map { RobotChannel(target: $0, sender: s) } },
            dingtalk: sender.flatMap { s in dingtalk.map { RobotChannel(target: $0, sender: s) } },
            sms: sms.map { SMSChannel(gateway: SMSGateway(settings: $0)) },
            wecomApp: wecomApp.map { WorkChatAppChannel(app: WorkChatApp(settings: $0)) },
            dingtalkApp: dingtalkApp.map { WorkChatAppChannel(app: WorkChatApp(settings: $0)) })
    }

    /// `Name <a@b>` or a bare address.
    static func address(_ text: String, key: String) throws -> MailAddress {
        let t = text.trimmingWhitespace()
        if let open = t.lastIndex(of: "<"), t.hasSuffix(">") {
            let addr = String(t[t.index(after: open)..<t.index(before: t.endIndex)])
            let name = t[..<open].trimmingWhitespace()
            guard addr.contains("@") else { throw MediationError.invalidInput("\(key) '\(text)' has no mail address") }
            return MailAddress(addr, name: name.isEmpty ? nil : name)
        }
        guard t.contains("@"), !t.contains(" ") else {
            throw MediationError.invalidInput(
                "\(key) '\(text)' is not a mail address", hint: "write 'Office name <office@example.org>'")
        }
        return MailAddress(t)
    }

    /// `24h`, `90m`, `2d`, or a number of minutes.
    static func duration(_ text: String) -> Int? {
        let t = text.trimmingWhitespace().lowercased()
        if let n = Int(t) { return n }
        guard let unit = t.last, let n = Int(t.dropLast()) else { return nil }
        switch unit {
        case "m": return n
        case "h": return n * 60
        case "d": return n * 1440
        default: return nil
        }
    }

    private static func checkURL(_ url: String, key: String) throws {
        guard let u = URL(string: url), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil else {
            throw MediationError.invalidInput("\(key) '\(url)' is not an http(s) URL")
        }
    }

    private static func secret(_ inline: String?, file: String?, key: String) throws -> String? {
        if Text.nonEmpty(inline) == nil && Text.nonEmpty(file) == nil { return nil }
        do {
            let bytes = try VideoRooms.loadSecret(inline: Text.nonEmpty(inline), file: Text.nonEmpty(file))
            return String(decoding: bytes, as: UTF8.self)
        } catch let e as MediationError {
            throw MediationError.invalidInput("\(key): " + e.message)
        }
    }
}
