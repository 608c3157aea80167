import Foundation
import MediationAPI
import MediationCore
import MediationStore
import OpenAPIRuntime
import Synchronization

typealias AppDatabaseSpan = AppDatabase.Span

/// Implements the generated API over the store.
struct APIHandler: APIProtocol {
    let db: AppDatabase
    let info: ServerInfo
    /// The access middleware has already refused larger bodies (`socket.max_body_kib`).
    var maxBodyBytes = ServerLimits().maxBodyBytes

    // MARK: Daemon

    /// Core's one catalogue (`Words`) for every code the API answers with, in the caller's language: what a client
    /// (mediationctl under `LANG=zh_CN.UTF-8`) shows people instead of the codes.
    func getWords(_ input: Operations.GetWords.Input) async throws -> Operations.GetWords.Output {
        let l = ReplyLanguage.current
        var words: [String: String] = [:]
        for c in OutboxStatus.allCases { words["outbox.\(c.rawValue)"] = Words.outboxStatus(c, l) }
        for c in NoticeKind.allCases { words["kind.\(c.rawValue)"] = Words.noticeKind(c, l) }
        for c in RecipientKind.allCases { words["recipient.\(c.rawValue)"] = Words.recipient(c, l) }
        for c in SessionStatus.allCases { words["session.\(c.rawValue)"] = Words.sessionStatus(c, l) }
        for c in Invitation.allCases { words["invitation.\(c.rawValue)"] = Words.invitation(c, l) }
        for c in ReceiptState.allCases { words["receipt.\(c.rawValue)"] = Words.receipt(c, l) }
        for c in RiskLevel.allCases { words["risk.\(c.rawValue)"] = Words.risk(c, l) }
        for c in DisputeStatus.allCases { words["dispute.\(c.rawValue)"] = Words.disputeStatus(c, l) }
        for c in ExpertRole.allCases { words["role.\(c.rawValue)"] = Words.expertRole(c, l) }
        for c in PartySide.allCases { words["side.\(c.rawValue)"] = Words.side(c, l) }
        for c in info.categories { words["category.\(c)"] = Words.category(c, l) }
        for c in OutcomeResult.allCases { words["result.\(c.rawValue)"] = Words.outcomeResult(c, l) }
        for c in EscalationKind.allCases { words["escalation.\(c.rawValue)"] = Words.escalation(c, l) }
        for c in FollowUpResult.allCases { words["followup.\(c.rawValue)"] = Words.followUpResult(c, l) }
        for c in WarningRule.allCases { words["rule.\(c.rawValue)"] = Words.warningRule(c, l) }
        for c in Role.allCases { words["account.\(c.rawValue)"] = Words.role(c, l) }
        for c in ContactChannel.allCases { words["channel.\(c.rawValue)"] = Words.contactChannel(c, l) }
        for c in PartyChannel.allCases { words["partychannel.\(c.rawValue)"] = Words.partyChannel(c, l) }
        for c in Words.auditActions { words["audit.\(c)"] = Words.auditAction(c, l) }
        words["policy.\(PanelPolicy.standard.name)"] = Words.policyName(PanelPolicy.standard.name, l)
        for (code, zh) in Words.auditTargetsZh { words["target.\(code)"] = l == .zh ? zh : code }
        for c in Weekday.allCases { words["weekday.\(c.code)"] = l == .zh ? c.chinese : c.code }
        for c in Words.specialties { words["specialty.\(c)"] = Words.specialty(c, l) }
        return .ok(
            .init(
                body: .json(
                    .init(language: l == .zh ? .zh : .en, words: .init(additionalProperties: words)))))
    }

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        let caller = Caller.current
        let creds = caller?.credentials ?? PeerCredentials(pid: 0, uid: 0, gid: 0)
        let health = Components.Schemas.Health(
            status: .ok, version: ProductVersion.current,
            uptimeSeconds: info.clock.now().timeIntervalSince(info.startedAt),
            schemaVersion: try await db.schemaVersion(), databasePath: db.path,
            caller: .init(
                uid: Int64(creds.uid), gid: Int64(creds.gid), pid: Int64(creds.pid), user: caller?.user,
                role: .init(caller?.role ?? .viewer)))
        return .ok(.init(body: .json(health)))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws
        -> Operations.GetOpenAPIDocument.Output
    {
        .ok(.init(body: .yaml(HTTPBody(openAPIDocument.hasSuffix("\n") ? openAPIDocument : openAPIDocument + "\n"))))
    }

    // MARK: Offices

    func listOffices(_ input: Operations.ListOffices.Input) async throws -> Operations.ListOffices.Output {
        .ok(.init(body: .json(.init(offices: try await db.offices().map(Wire.office)))))
    }

    func createOffice(_ input: Operations.CreateOffice.Input) async throws -> Operations.CreateOffice.Output {
        guard case .json(let body) = input.body else { throw unsupportedBody() }
        var office = Office(id: body.id, name: body.name)
        if let tz = body.timeZone { office.timeZone = tz }
        office.address = body.address
        office.phone = body.phone
        if let hours = try Wire.windows(body.workingHours, text: body.hours, field: "workingHours") {
            office.workingHours = hours
        }
        if let minutes = body.defaultSessionMinutes { office.defaultSessionMinutes = minutes }
        office.disputePrefix = body.disputePrefix
        let stored = try await db.createOffice(office)
        return .created(.init(body: .json(Wire.office(stored))))
    }

    func getOffice(_ input: Operations.GetOffice.Input) async throws -> Operations.GetOffice.Output {
        .ok(.init(body: .json(Wire.office(try await db.office(input.path.office)))))
    }

    func updateOffice(_ input: Operations.UpdateOffice.Input) async throws -> Operations.UpdateOffice.Output {
        guard case .json(let body) = input.body else { throw unsupportedBody() }
        let hours = try Wire.windows(body.workingHours, text: body.hours, field: "workingHours")
        let stored = try await db.updateOffice(input.path.office) { o in
            if let v = body.name { o.name = v }
            if let v = body.timeZone { o.timeZone = v }
            if let v = body.address { o.address = v }
            if let v = body.phone { o.phone = v }
            if let hours { o.workingHours = hours }
            if let v = body.defaultSessionMinutes { o.defaultSessionMinutes = v }
            if let v = body.disputePrefix { o.disputePrefix = v }
        }
        return .ok(.init(body: .json(Wire.office(stored))))
    }

    // MARK: Experts

    func listExperts(_ input: Operations.ListExperts.Input) async throws -> Operations.ListExperts.Output {
        let q = input.query
        let filter = ExpertFilter(
            role: try q.role.map(Wire.role), office: Text.nonEmpty(q.office), specialty: Text.nonEmpty(q.specialty),
            active: q.active)
        let reveal = try revealAsked(q.reveal)
        let experts = try await db.experts(filter)
        if reveal { try await recordExpertReveal(experts, target: "experts", listing: true) }
        return .ok(.init(body: .json(.init(experts: experts.map { Wire.summary($0, reveal: reveal) }))))
    }

    func createExpert(_ input: Operations.CreateExpert.Input) async throws -> Operations.CreateExpert.Output {
        guard case .json(let b) = input.body else { throw unsupportedBody() }
        let offices = Wire.offices(b.offices)
        var expert = Expert(
            name: b.name, role: try Wire.role(b.role), specialties: Wire.tags(b.specialties) ?? [],
            languages: Wire.tags(b.languages) ?? [],
            servesAllOffices: offices.all, offices: offices.ids, email: b.email, mobile: b.mobile,
            wecomUserId: b.wecomUserId, dingtalkMobile: b.dingtalkMobile,
            preferredChannel: try Wire.channel(b.preferredChannel),
            notes: b.notes)
        if let v = b.timeZone { expert.timeZone = v }
        if let v = b.maxSessionsPerDay { expert.maxSessionsPerDay = v }
        if let v = b.maxSessionsPerWeek { expert.maxSessionsPerWeek = v }
        if let hours = try Wire.windows(b.weeklyHours, text: b.hours, field: "weeklyHours") {
            expert.weeklyHours = hours
        }
        let stored = try await db.createExpert(expert)
        return .created(.init(body: .json(wireExpert(stored, reveal: false))))
    }

    func getExpert(_ input: Operations.GetExpert.Input) async throws -> Operations.GetExpert.Output {
        let reveal = try revealAsked(input.query.reveal)
        let expert = try await db.expert(input.path.expert)
        if reveal { try await recordExpertReveal([expert], target: "expert \(expert.id)", listing: false) }
        return .ok(.init(body: .json(wireExpert(expert, reveal: reveal))))
    }

    /// Every reveal of experts' numbers is on the record, with the ids of those who had one to show.
    private func recordExpertReveal(_ experts: [Expert], target: String, listing: Bool) async throws {
        let shown = experts.filter { $0.mobile != nil || $0.dingtalkMobile != nil }
        try await recordReveal(
            "expert.reveal", target: target,
            summary: "full mobiles of \(shown.count) of \(experts.count) experts shown"
                + (listing ? " (\(target))" : "")
                + (shown.isEmpty || shown.count > 20
                    ? "" : ": " + shown.map { "expert \($0.id)" }.joined(separator: ", ")))
    }

    func updateExpert(_ input: Operations.UpdateExpert.Input) async throws -> Operations.UpdateExpert.Output {
        guard case .json(let b) = input.body else { throw unsupportedBody() }
        let role = try b.role.map(Wire.role)
        let channel = try b.preferredChannel.map { try Wire.channel($0) }
        let hours = try Wire.windows(b.weeklyHours, text: b.hours, field: "weeklyHours")
        let stored = try await db.updateExpert(input.path.expert) { e in
            if let v = b.name { e.name = v }
            if let role { e.role = role }
            if let v = Wire.tags(b.specialties) { e.specialties = v }
            if let v = Wire.tags(b.languages) { e.languages = v }
            if let v = b.offices {
                let o = Wire.offices(v)
                e.servesAllOffices = o.all
                e.offices = o.ids
            }
            // An empty string clears an optional field.
            if let v = b.email { e.email = v }
            if let v = b.mobile { e.mobile = v }
            if let v = b.wecomUserId { e.wecomUserId = v }
            if let v = b.dingtalkMobile { e.dingtalkMobile = v }
            if let channel { e.preferredChannel = channel }
            if let v = b.timeZone { e.timeZone = v }
            if let v = b.maxSessionsPerDay { e.maxSessionsPerDay = v }
            if let v = b.maxSessionsPerWeek { e.maxSessionsPerWeek = v }
            if let v = b.notes { e.notes = v }
            if let hours { e.weeklyHours = hours }
            if b.preferredChannel != nil && channel == nil { e.preferredChannel = nil }
        }
        return .ok(.init(body: .json(wireExpert(stored, reveal: false))))
    }

    func deactivateExpert(_ input: Operations.DeactivateExpert.Input) async throws -> Operations.DeactivateExpert.Output
    {
        let (expert, warnings) = try await db.deactivateExpert(input.path.expert)
        var wire = wireExpert(expert, reveal: false)
        wire.warnings = warnings.isEmpty ? nil : warnings.map(Self.said)
        return .ok(.init(body: .json(wire)))
    }

    func reactivateExpert(_ input: Operations.ReactivateExpert.Input) async throws -> Operations.ReactivateExpert.Output
    {
        .ok(.init(body: .json(wireExpert(try await db.setExpertActive(input.path.expert, true), reveal: false))))
    }

    // MARK: Time off and extra availability

    private func spans(_ kind: AppDatabase.SpanKind, _ ref: String, from: String?, to: String?) async throws
        -> Components.Schemas.SpanList
    {
        let expert = try await db.expert(ref)
        let zone = try Zone(expert.timeZone)
        var range: Interval?
        if from != nil || to != nil {
            let start =
                try from.map { try zone.parseInstant($0, field: "from", now: info.clock.now()) } ?? Date.distantPast
            let end =
                try to.map { try zone.parseInstant($0, field: "to", endOfDay: true, now: info.clock.now()) }
                ?? Date.distantFuture
            range = Interval(start: start, end: end)
            try AvailabilityResolver.checkRange(Interval(start: start, end: end), what: "the range")
        }
        let list = try await db.spans(kind, expert: String(expert.id), overlapping: range)
        return .init(spans: list.map { Wire.span($0, zone: zone) })
    }

    private func addSpan(_ kind: AppDatabase.SpanKind, _ ref: String, _ body: Components.Schemas.SpanCreate)
        async throws -> Components.Schemas.Span
    {
        let expert = try await db.expert(ref)
        let zone = try Zone(expert.timeZone)
        let interval = try Intake.span(
            from: body.from, to: body.to, zone: zone, now: info.clock.now(), what: kind.what)
        let span = try await db.addSpan(kind, expert: String(expert.id), interval: interval, note: body.note)
        return Wire.span(span, zone: zone)
    }

    func listTimeOff(_ input: Operations.ListTimeOff.Input) async throws -> Operations.ListTimeOff.Output {
        .ok(
            .init(body: .json(try await spans(.timeOff, input.path.expert, from: input.query.from, to: input.query.to)))
        )
    }

    func addTimeOff(_ input: Operations.AddTimeOff.Input) async throws -> Operations.AddTimeOff.Output {
        guard case .json(let body) = input.body else { throw unsupportedBody() }
        return .created(.init(body: .json(try await addSpan(.timeOff, input.path.expert, body))))
    }

    func removeTimeOff(_ input: Operations.RemoveTimeOff.Input) async throws -> Operations.RemoveTimeOff.Output {
        try await db.removeSpan(.timeOff, expert: input.path.expert, id: input.path.span)
        return .noContent(.init())
    }

    func listExtraAvailability(_ input: Operations.ListExtraAvailability.Input) async throws
        -> Operations.ListExtraAvailability.Output
    {
        .ok(.init(body: .json(try await spans(.extra, input.path.expert, from: input.query.from, to: input.query.to))))
    }

    func addExtraAvailability(_ input: Operations.AddExtraAvailability.Input) async throws
        -> Operations.AddExtraAvailability.Output
    {
        guard case .json(let body) = input.body else { throw unsupportedBody() }
        return .created(.init(body: .json(try await addSpan(.extra, input.path.expert, body))))
    }

    func removeExtraAvailability(_ input: Operations.RemoveExtraAvailability.Input) async throws
        -> Operations.RemoveExtraAvailability.Output
    {
        try await db.removeSpan(.extra, expert: input.path.expert, id: input.path.span)
        return .noContent(.init())
    }

    func getAvailability(_ input: Operations.GetAvailability.Input) async throws -> Operations.GetAvailability.Output {
        let expert = try await db.expert(input.path.expert)
        let zone = try Zone(expert.timeZone)
        let start = try zone.parseInstant(input.query.from, field: "from", now: info.clock.now())
        let end = try zone.parseInstant(input.query.to, field: "to", endOfDay: true, now: info.clock.now())
        let (_, free) = try await db.availability(expert: String(expert.id), range: Interval(start: start, end: end))
        let intervals = free.map { i -> Components.Schemas.FreeInterval in
            let (date, startMinutes) = zone.wallClock(i.start)
            let (endDate, endMinutes) = zone.wallClock(i.end)
            let endLocal =
                endDate > date && endMinutes == 0 ? "24:00" : TimeOfDay(minutes: endMinutes)?.description ?? ""
            return .init(
                start: zone.format(i.start), end: zone.format(i.end), date: date.description,
                weekday: date.weekday.code,
                startLocal: TimeOfDay(minutes: startMinutes)?.description ?? "", endLocal: endLocal,
                minutes: Int(i.duration / 60))
        }
        let body = Components.Schemas.Availability(
            expertId: expert.id, name: expert.name, timeZone: expert.timeZone, from: zone.format(start),
            to: zone.format(end), totalMinutes: intervals.reduce(0) { $0 + $1.minutes }, intervals: intervals)
        return .ok(.init(body: .json(body)))
    }

    // MARK: Roster

    func importRoster(_ input: Operations.ImportRoster.Input) async throws -> Operations.ImportRoster.Output {
        guard case .csv(let body) = input.body else { throw unsupportedBody() }
        let bytes = try await [UInt8](collecting: body, upTo: maxBodyBytes)
        // Offices are checked while reading, so one answer lists every problem of every line.
        let offices = try await db.offices()
        let rows = try Roster.read(
            bytes, knownOffices: Set(offices.map(\.id)),
            officeNames: Dictionary(offices.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a }))
        let report = try await db.importRoster(rows, dryRun: input.query.dryRun ?? false)
        return .ok(
            .init(
                body: .json(
                    .init(
                        dryRun: report.dryRun, created: report.created.count, updated: report.updated.count,
                        unchanged: report.unchanged.count, createdLines: report.created, updatedLines: report.updated,
                        deactivatedLines: report.deactivated,
                        warnings: report.warnings.map(Self.said))))
        )
    }

    /// The roster as CSV. Its mobiles are masked unless the caller reveals them (audited), as in every other view:
    /// a masked roster is for reading; the one that import reads back is the revealed one.
    func exportRoster(_ input: Operations.ExportRoster.Input) async throws -> Operations.ExportRoster.Output {
        let reveal = try revealAsked(input.query.reveal)
        let experts = try await db.experts()
        if reveal { try await recordExpertReveal(experts, target: "roster export", listing: true) }
        let text = Roster.write(reveal ? experts : experts.map { $0.masked() })
        return .ok(.init(body: .csv(HTTPBody(text))))
    }

    private func unsupportedBody() -> MediationError {
        .invalidInput("the request body has the wrong content type", hint: "send application/json")
    }
}

extension APIHandler {
    /// An expert as the API shows them, with why no personal channel reaches them when none does.
    func wireExpert(_ expert: Expert, reveal: Bool) -> Components.Schemas.Expert {
        var wire = Wire.expert(expert, reveal: reveal)
        wire.unreachable = Reach.unreachable(expert, info.notices.personalChannels).map(Self.said)
        return wire
    }
}

extension APIHandler {
    /// An expert's calendar feed address (made on first asking), or a new one (`reset`: the old answers 404).
    func getExpertFeed(_ input: Operations.GetExpertFeed.Input) async throws -> Operations.GetExpertFeed.Output {
        .ok(.init(body: .json(try await feed(input.path.expert, reset: false))))
    }

    func resetExpertFeed(_ input: Operations.ResetExpertFeed.Input) async throws -> Operations.ResetExpertFeed.Output {
        .ok(.init(body: .json(try await feed(input.path.expert, reset: true))))
    }

    private func feed(_ ref: String, reset: Bool) async throws -> Components.Schemas.ExpertFeed {
        // An unknown expert is 404 whatever the listener; a daemon without one cannot serve a feed (409: its
        // configuration, not a failure, is why).
        _ = try await db.expert(ref)
        guard let base = info.webBase else {
            throw MediationError.said(
                .conflict,
                en: "the web listener is off, and the calendar feed is served by it; set web.listen (and "
                    + "web.public_url, the address people open) and restart the daemon",
                zh: "网页服务未开启，日历订阅由它提供：请在配置中设置 web.listen（以及对外地址 web.public_url）后重启")
        }
        let (expert, token) = try await db.feedToken(expert: ref, reset: reset)
        let address = FeedAddress(base: base, token: token)
        return .init(
            expert: expert.id, name: expert.name, path: address.path, url: address.url, webcal: address.webcal)
    }
}
