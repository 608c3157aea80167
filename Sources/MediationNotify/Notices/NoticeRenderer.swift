import Foundation
import MediationCore
import MediationStore
import Mustache

/// Office-wide settings for notices (`notices.*` in the configuration).
public struct NoticeSettings: Sendable, Equatable {
    /// The From of every mail and the ORGANIZER of every invite.
    public var from: MailAddress
    /// Where invitation answers go; the From address when not set.
    public var officeEmail: String?
    /// The right-hand side of Message-IDs and invite UIDs.
    public var domain: String
    /// `zh` or `en`, for recipients whose language is not known.
    public var defaultLanguage: String
    /// Chat channels stay silent between these wall-clock minutes in the recipient's zone (start > end wraps
    /// midnight), unless the session is less than two hours away.
    public var quietStartMinutes: Int?
    public var quietEndMinutes: Int?

    public init(
        from: MailAddress = MailAddress("mediation@localhost", name: "调解协调 Mediation Coordinator"),
        officeEmail: String? = nil, domain: String = "mediation.local", defaultLanguage: String = "zh",
        quietStartMinutes: Int? = 22 * 60, quietEndMinutes: Int? = 7 * 60
    ) {
        self.from = from
        self.officeEmail = officeEmail
        self.domain = domain
        self.defaultLanguage = defaultLanguage
        self.quietStartMinutes = quietStartMinutes
        self.quietEndMinutes = quietEndMinutes
    }

    /// When quiet hours end if `instant` falls inside them in `zone`; nil when it does not.
    public func quietUntil(_ instant: Date, zone: Zone) -> Date? {
        guard let start = quietStartMinutes, let end = quietEndMinutes, start != end else { return nil }
        let (date, minute) = zone.wallClock(instant)
        let inside = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end)
        guard inside else { return nil }
        let endDate = (start < end || minute < end) ? date : date.adding(days: 1)
        return zone.instant(endDate, TimeOfDay(minutes: end) ?? TimeOfDay.midnight)
    }
}

/// A message ready for a channel: text in the recipient's language, times in their zone.
public struct RenderedNotice: Sendable, Equatable {
    public var language: String
    public var subject: String
    public var text: String
    public var recipientName: String
    public var recipientEmail: String?
    public var recipientMobile: String?
    /// The recipient's preferred channel, when they have one.
    public var preferredChannel: ContactChannel?
    public var timeZone: String
    /// `<token@domain>`: the same on every attempt.
    public var messageID: String
    /// What the message is about, which picks an SMS template.
    public var kind: NoticeKind = .notice
    /// The dispute's number (`JS-2026-0042`), a template parameter.
    public var disputeNumber: String = ""
    /// The recipient's own page (`/p/TOKEN`), when the web listener serves them.
    public var page: String?
    /// The start in the recipient's zone, short (`12月7日 14:00`, `7 Dec 14:00`), a template parameter.
    public var shortTime: String = ""
    /// An expert's WeCom user id and DingTalk mobile (else their mobile), for the personal app messages; a party has
    /// neither (a citizen is not a member of the office's WeCom or DingTalk).
    public var wecomUser: String?
    public var dingtalkMobile: String?

    /// The message's own reference at a gateway (the Message-ID's local part): the same on every attempt.
    public var reference: String {
        String(messageID.drop { $0 == "<" }.prefix { $0 != "@" && $0 != ">" })
    }
}

/// The templates, loaded from a folder or from the copy built into the binary.
public struct NoticeTemplates: Sendable {
    let library: MustacheLibrary
    /// Where they came from, for the log.
    public let source: String

    /// The templates in `directory` (`zh/…`, `en/…`); when it is nil or missing, the built-in copy.
    ///
    /// - Throws: `invalidInput` naming the file with a Mustache error or a missing template.
    public static func load(directory: String?) throws -> NoticeTemplates {
        var texts = embeddedTemplates
        var source = "built-in templates"
        if let directory, FileManager.default.fileExists(atPath: directory) {
            source = directory
            for language in ["zh", "en"] {
                let folder = (directory as NSString).appendingPathComponent(language)
                for file in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                where file.hasSuffix(".mustache") {
                    let path = (folder as NSString).appendingPathComponent(file)
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                        throw MediationError.invalidInput("template \(path) cannot be read as UTF-8 text")
                    }
                    texts["\(language)/\(file.dropLast(".mustache".count))"] = text
                }
            }
        }
        var library = MustacheLibrary()
        for (name, text) in texts.sorted(by: { $0.key < $1.key }) {
            do { try library.register(text, named: name) } catch {
                throw MediationError.invalidInput(
                    "template \(name) in \(source) is not valid Mustache: \(error)",
                    hint: "fix the file and send SIGHUP, or remove it to use the built-in one")
            }
        }
        for key in embeddedTemplates.keys where library.getTemplate(named: key) == nil {
            throw MediationError.invalidInput("template \(key) is missing from \(source)")
        }
        return NoticeTemplates(library: library, source: source)
    }

    func render(_ name: String, _ context: [String: Any]) -> String? {
        library.render(context, withTemplate: name)
    }

    /// A printed document in Chinese (`zh/agreement`), HTML-escaped as Mustache escapes by default.
    public func document(_ name: String, _ values: [String: Any]) -> String? {
        library.render(values, withTemplate: "zh/\(name)")
    }
}

/// The values that are there: a missing one must be absent for a Mustache section, not "nil".
func present(_ values: [String: Any?]) -> [String: Any] { values.compactMapValues { $0 } }

/// Turns a message and its session into the text a recipient reads.
public struct NoticeRenderer: Sendable {
    public var settings: NoticeSettings
    public var templates: NoticeTemplates
    /// The link for one participant (room, participant id, name, email, moderator, start, end), or nil.
    public var link: @Sendable (String, String, String, String?, Bool, Date, Date) throws -> String?
    /// Where personal pages are served (the web listener's public address) and the key their links are signed
    /// with (the store's `personalLinkKey`); nil when the web listener is off, and notices then carry no page.
    public var personalPages: (base: String, key: Data)?

    public init(
        settings: NoticeSettings, templates: NoticeTemplates,
        link: @escaping @Sendable (String, String, String, String?, Bool, Date, Date) throws -> String? = {
            _, _, _, _, _, _, _ in nil
        }
    ) {
        self.settings = settings
        self.templates = templates
        self.link = link
    }

    /// A person's own page for a session (`/p/TOKEN`, good until 7 days after its end), or nil without a web
    /// listener.
    func page(_ session: Session, _ kind: RecipientKind, _ person: Int64) -> String? {
        guard let pages = personalPages else { return nil }
        return PersonalLink(session, kind: kind, person: person).url(base: pages.base, key: pages.key)
    }

    /// The language a recipient reads: English when their first language says so, else Chinese, else the default.
    public func language(of context: NoticeContext) -> String {
        let spoken: [String] =
            context.expert?.languages ?? context.party?.language.map { [$0] } ?? []
        for l in spoken {
            let t = l.lowercased()
            if ["en", "english", "英语", "英文"].contains(t) { return "en" }
            if ["zh", "chinese", "mandarin", "中文", "普通话", "汉语"].contains(t) || t.contains("话") { return "zh" }
        }
        return settings.defaultLanguage == "en" ? "en" : "zh"
    }

    /// The recipient's zone: the expert's or party's own, the office's for the office. The store reads only known
    /// zones; one that is not known fails the rendering rather than showing a time in another zone.
    ///
    /// - Throws: `invalidInput` naming the unknown zone.
    public func zone(of context: NoticeContext) throws -> Zone {
        try Zone(context.expert?.timeZone ?? context.party?.timeZone ?? context.office.timeZone)
    }

    /// Renders the message.
    ///
    /// - Throws: `invalidInput` when a template renders nothing (a broken folder).
    public func render(_ context: NoticeContext) throws -> RenderedNotice {
        let language = language(of: context)
        let zone = try zone(of: context)
        let officeZone = try Zone(context.office.timeZone)
        let s = context.session
        let en = language == "en"
        var values: [String: Any] = [:]
        values["office"] = present([
            "name": context.office.name, "phone": context.office.phone, "address": context.office.address,
            "zone": context.office.timeZone,
        ])
        let e = context.dispute.elements
        values["dispute"] = [
            // The category and risk in the notice's language, from Core's one catalogue (低/中/高/极高, 邻里 …).
            "number": context.dispute.number, "title": context.dispute.title,
            "category": Words.category(context.dispute.category, en ? .en : .zh),
            "risk": Words.risk(context.dispute.risk, en ? .en : .zh),
            "elements": [
                "cause": e.cause ?? "—",
                "occurred": e.occurredAt.map { Self.when($0, zone: officeZone, en: en) } ?? "—",
                "location": e.location ?? "—", "nature": e.nature ?? "—", "scale": e.scale.map(String.init) ?? "—",
                "involved": e.involved ?? "—", "development": e.development ?? "—",
            ] as [String: Any],
        ]
        values["time"] = [
            "local": Self.when(s.start, zone: zone, en: en), "office": Self.when(s.start, zone: officeZone, en: en),
            "zone": zone.identifier, "office_zone": officeZone.identifier,
        ]
        values["duration"] = Int(s.interval.duration / 60)
        values["sequence"] = context.message.sequence
        values["session"] = s.id
        values["reason"] = s.cancelReason ?? "—"
        values["panel"] = s.panel.map { m -> [String: Any] in
            let x = context.experts[m.expertId]
            return [
                "name": x?.name ?? "#\(m.expertId)", "role": Self.role(x?.role ?? m.requirement.role, en: en),
                "lead": m.lead,
            ]
        }
        values["parties"] = context.parties.map { p -> [String: Any] in
            ["name": p.name, "side": Self.side(p.side, en: en), "mobile": p.mobile.map(Contact.maskMobile) ?? "—"]
        }
        if let minutes = context.message.offsetMinutes {
            values["reminder"] = [
                "hours": minutes % 60 == 0 ? "\(minutes / 60)" : String(format: "%.1f", Double(minutes) / 60),
                "minutes": minutes,
            ]
        }
        let name: String
        var email: String?
        var mobile: String?
        var preferred: ContactChannel?
        var template: String
        switch context.message.recipientKind {
        case .expert:
            let expert = context.expert
            name = expert?.name ?? "#\(context.message.recipientId)"
            email = expert?.email
            mobile = expert?.mobile
            preferred = expert?.preferredChannel
            values["expert"] = true
            values["page"] = page(s, .expert, context.message.recipientId)
            if let seat = s.panel.first(where: { $0.expertId == context.message.recipientId }) {
                values["seat"] = present([
                    "role": Self.role(seat.requirement.role, en: en), "requirement": seat.requirement.description,
                    "specialty": seat.requirement.specialty,
                ])
                values["role"] = [seat.requirement.role.rawValue: true]
                values["lead"] = seat.lead
                if let room = s.room {
                    values["link"] = try link(
                        room, "expert-\(context.message.recipientId)", name, email, seat.lead, s.start, s.end)
                }
            }
            template = context.message.kind == .rsvp ? "rsvp" : Self.template(for: context.message.kind, party: false)
        case .party:
            let party = context.party
            name = party?.name ?? "#\(context.message.recipientId)"
            email = party?.email
            mobile = party?.mobile
            preferred = party?.channel?.contact
            values["party"] = true
            values["page"] = page(s, .party, context.message.recipientId)
            if let room = s.room {
                values["link"] = try link(
                    room, "party-\(context.message.recipientId)", name, email, false, s.start, s.end)
            }
            template = Self.template(for: context.message.kind, party: true)
        case .office where context.message.isGroupLine:
            // The office's line in its group chat, read by everyone there: no address (so no personal channel takes
            // it), and nothing about the parties or the case for a template to show.
            name = context.office.name
            template = "group"
            let change: String =
                switch context.message.kind {
                case .update: "moved"
                case .cancel: "cancelled"
                case .added, .removed: "panel"
                default: "booked"
                }
            values["group"] = [change: true]
            for key in ["parties", "reason", "link"] { values[key] = nil }
            values["dispute"] = ["number": context.dispute.number]
        case .office:
            name = context.office.name
            email = settings.officeEmail ?? settings.from.address
            template = context.message.kind == .followup ? "followup" : "rsvp"
        }
        if context.message.kind == .followup {
            values["followup"] = [
                "due": officeZone.wallClock(context.message.dueAt).date.description,
                "id": context.followUpId.map(String.init) ?? "ID",
            ]
        }
        if context.message.kind == .rsvp {
            // An answer goes to the office, whoever gave it.
            let expert = context.experts[context.message.recipientId]
            let answer = s.panel.first { $0.expertId == context.message.recipientId }?.invitation ?? .pending
            values["rsvp"] = [
                "expert": expert?.name ?? "#\(context.message.recipientId)", "answer": Self.answer(answer, en: en),
                "declined": answer == .declined, "expert_id": String(context.message.recipientId),
            ]
            values["recipient"] = ["name": context.office.name]
            return try finish(
                template, values, language: language, name: context.office.name,
                email: settings.officeEmail ?? settings.from.address, mobile: nil, preferred: .email, zone: officeZone,
                context: context)
        }
        values["recipient"] = ["name": name]
        return try finish(
            template, values, language: language, name: name, email: email, mobile: mobile, preferred: preferred,
            zone: zone, context: context)
    }

    private func finish(
        _ template: String, _ values: [String: Any], language: String, name: String, email: String?, mobile: String?,
        preferred: ContactChannel?, zone: Zone, context: NoticeContext
    ) throws -> RenderedNotice {
        guard let rendered = templates.render("\(language)/\(template)", values) else {
            throw MediationError.invalidInput("template \(language)/\(template) is missing")
        }
        // Blank means spaces and tabs only (checked by hand: Foundation's trimming is slow on Linux).
        func blank(_ line: String) -> Bool { line.utf8.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 } }
        var lines = rendered.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while let first = lines.first, blank(first) { lines.removeFirst() }
        var subject = "\(context.dispute.number)"
        if let first = lines.first, first.hasPrefix("Subject:") {
            subject = first.dropFirst("Subject:".count).trimmingWhitespace()
            lines.removeFirst()
        }
        // Lines left empty by a section that did not apply are dropped; paragraphs keep one blank line.
        var body: [String] = []
        for line in lines {
            let empty = blank(line)
            if empty && (body.last?.isEmpty ?? true) { continue }
            body.append(empty ? "" : line)
        }
        while body.last?.isEmpty == true { body.removeLast() }
        let expert = context.message.recipientKind == .expert ? context.expert : nil
        let page: String? =
            switch context.message.recipientKind {
            case .expert: self.page(context.session, .expert, context.message.recipientId)
            case .party: self.page(context.session, .party, context.message.recipientId)
            case .office: nil
            }
        return RenderedNotice(
            language: language, subject: subject, text: body.joined(separator: "\n") + "\n", recipientName: name,
            recipientEmail: email, recipientMobile: mobile, preferredChannel: preferred, timeZone: zone.identifier,
            messageID: "<\(context.message.token)@\(settings.domain)>", kind: context.message.kind,
            disputeNumber: context.dispute.number, page: page,
            shortTime: Self.short(context.session.start, zone: zone, en: language == "en"),
            wecomUser: expert?.wecomUserId, dingtalkMobile: expert.flatMap { $0.dingtalkMobile ?? $0.mobile })
    }

    /// `12月7日 14:00` or `7 Dec 14:00`: short enough for an SMS template's variable.
    public static func short(_ instant: Date, zone: Zone, en: Bool) -> String {
        let (d, m) = zone.wallClock(instant)
        let clock = String(format: "%02d:%02d", m / 60, m % 60)
        if en {
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            return "\(d.day) \(months[d.month - 1]) \(clock)"
        }
        return "\(d.month)月\(d.day)日 \(clock)"
    }

    static func template(for kind: NoticeKind, party: Bool) -> String {
        switch kind {
        case .notice: party ? "party-notice" : "expert-notice"
        case .reminder: "reminder"
        case .update: "update"
        case .cancel: "cancel"
        case .removed: "removed"
        case .added: "added"
        case .rsvp: "rsvp"
        case .followup: "followup"
        }
    }

    /// `2026年12月7日 周一 09:30` or `Mon 7 Dec 2026 09:30`.
    public static func when(_ instant: Date, zone: Zone, en: Bool) -> String {
        let (d, m) = zone.wallClock(instant)
        let clock = String(format: "%02d:%02d", m / 60, m % 60)
        if en {
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            let day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d.weekday.rawValue - 1]
            return "\(day) \(d.day) \(months[d.month - 1]) \(d.year) \(clock)"
        }
        return "\(d.year)年\(d.month)月\(d.day)日 \(d.weekday.chinese) \(clock)"
    }

    static func role(_ role: ExpertRole, en: Bool) -> String {
        if !en { return role.chinese }
        switch role {
        case .legalOfficer: return "legal officer"
        case .lawyer: return "lawyer"
        case .retiree: return "retired official"
        case .communityStaff: return "community governance staff"
        }
    }

    static func side(_ side: PartySide, en: Bool) -> String {
        switch side {
        case .applicant: en ? "applicant" : "申请人"
        case .respondent: en ? "respondent" : "被申请人"
        case .other: en ? "other" : "其他"
        }
    }

    static func answer(_ answer: Invitation, en: Bool) -> String {
        switch answer {
        case .accepted: en ? "accepted" : "接受"
        case .declined: en ? "declined" : "谢绝"
        case .pending: en ? "no answer yet" : "未答复"
        }
    }
}
