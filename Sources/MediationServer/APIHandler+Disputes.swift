import Foundation
import MediationAPI
import MediationCore
import MediationStore
import OpenAPIRuntime

extension APIHandler {
    /// The caller as the store records them.
    var actor: Actor {
        let caller = Caller.current
        return Actor(
            uid: caller?.credentials.uid ?? 0, user: caller?.user, isAdmin: caller?.role == .admin)
    }

    /// Every office's zone, by office id (read strictly by the store: never guessed).
    func officeZones() async throws -> [String: Zone] {
        var result: [String: Zone] = [:]
        for office in try await db.offices() { result[office.id] = try Zone(office.timeZone) }
        return result
    }

    private func wire(_ d: Dispute, zone: Zone) -> Components.Schemas.Dispute {
        .init(
            id: d.id, number: d.number, office: d.officeId, title: d.title, category: d.category,
            elements: .init(
                cause: d.elements.cause, occurredAt: d.elements.occurredAt.map(zone.format),
                location: d.elements.location, nature: d.elements.nature, scale: d.elements.scale,
                involved: d.elements.involved, development: d.elements.development),
            risk: .init(d.risk), status: .init(d.status),
            openedAt: zone.format(d.openedAt), closedAt: d.closedAt.map(zone.format))
    }

    func wireParty(_ p: Party, reveal: Bool) throws -> Components.Schemas.Party {
        let shown = reveal ? p : p.masked()
        let zone = try Zone(p.timeZone)
        return .init(
            id: p.id, dispute: p.disputeId, name: p.name, side: .init(p.side),
            mobile: shown.mobile, email: p.email, idCard: shown.idCard, organisation: p.organisation,
            language: p.language,
            timeZone: p.timeZone, weeklyWindows: p.weeklyWindows.map(Wire.window),
            hoursText: Wire.hoursText(p.weeklyWindows),
            datedWindows: p.datedWindows.map { .init(from: zone.format($0.start), to: zone.format($0.end)) },
            channel: p.channel.map { .init(rawValue: $0.rawValue) } ?? nil,
            unreachable: Reach.unreachable(p, info.notices.personalChannels).map(Self.said))
    }

    /// A problem in the reader's language (`Accept-Language`, as `LANG=zh_CN.UTF-8 mediationctl` sends).
    static func said(_ problem: FieldProblem) -> String { ReplyLanguage.current == .zh ? problem.zh : problem.en }

    /// `en` or `zh`, in the reader's language.
    static func say(_ en: String, _ zh: String) -> String { ReplyLanguage.current == .zh ? zh : en }

    /// Whom a session's notices cannot reach, in the reader's language.
    static func wire(_ people: [Unreached]) -> [Components.Schemas.Unreached] {
        people.map { .init(kind: $0.kind == .party ? .party : .expert, id: $0.id, name: $0.name, why: said($0.why)) }
    }

    private func wire(_ detail: DisputeDetail, reveal: Bool = false) async throws -> Components.Schemas.DisputeDetail {
        let zone = try Zone(try await db.office(detail.dispute.officeId).timeZone)
        // The store's own reasons (opened, escalation #1: violence …) in the caller's language; typed ones as typed.
        let language = ReplyLanguage.current
        return .init(
            dispute: wire(detail.dispute, zone: zone),
            parties: try detail.parties.map { try wireParty($0, reveal: reveal) },
            riskHistory: detail.riskHistory.map {
                .init(
                    at: zone.format($0.at), from: $0.from?.rawValue, to: $0.to.rawValue,
                    reason: Words.historyReason($0.reason, language), uid: Int64($0.uid), user: $0.user)
            },
            statusHistory: detail.statusHistory.map {
                .init(
                    at: zone.format($0.at), from: $0.from?.rawValue, to: $0.to.rawValue,
                    reason: Words.historyReason($0.reason, language), uid: Int64($0.uid), user: $0.user)
            })
    }

    /// The elements as the API sends them, read by Core's intake rules (as the console's form is).
    private func elements(_ e: Components.Schemas.DisputeElements?, zone: Zone, into target: inout DisputeElements)
        throws
    {
        guard let e else { return }
        try Intake.Elements(
            cause: e.cause, occurredAt: e.occurredAt, location: e.location, nature: e.nature, scale: e.scale,
            involved: e.involved, development: e.development
        ).apply(to: &target, zone: zone, now: info.clock.now())
    }

    static func risk(_ text: String) throws -> RiskLevel { try Intake.risk(text) }

    static func status(_ text: String) throws -> DisputeStatus {
        guard let status = DisputeStatus(rawValue: text.lowercased()) else {
            throw MediationError.said(
                .invalidInput, field: "status",
                en: "status '\(text)' is unknown; use one of "
                    + DisputeStatus.allCases.map(\.rawValue).joined(separator: ", "),
                zh: "状态“\(text)”无法识别，请写 "
                    + DisputeStatus.allCases.map { "\($0.rawValue)（\(Words.disputeStatus($0, .zh))）" }
                    .joined(separator: "、"))
        }
        return status
    }

    /// A party from the API, read by Core's intake rules (as the console's form is).
    func party(_ input: Components.Schemas.PartyInput, officeZone: Zone) throws -> Party {
        try Intake.party(
            name: input.name, side: input.side, mobile: input.mobile, email: input.email, idCard: input.idCard,
            organisation: input.organisation, language: input.language, timeZone: input.timeZone,
            weekly: try Wire.windows(input.weeklyWindows, field: "weeklyWindows"), hours: input.hours,
            dated: (input.datedWindows ?? []).map { ($0.from, $0.to) }, channel: input.channel, officeZone: officeZone,
            now: info.clock.now())
    }

    private func dated(_ w: Components.Schemas.DatedWindow, zone: Zone) throws -> Interval {
        try Intake.dated(from: w.from, to: w.to, zone: zone, now: info.clock.now())
    }

    private func officeZone(_ office: String) async throws -> Zone {
        try Zone(try await db.office(office).timeZone)
    }

    // MARK: Operations

    func listDisputes(_ input: Operations.ListDisputes.Input) async throws -> Operations.ListDisputes.Output {
        let q = input.query
        let category = Text.nonEmpty(q.category).map { Dispute.category(typed: $0, categories: info.categories) }
        if let category, !info.categories.contains(category) {
            throw MediationError.said(
                .invalidInput, field: "category",
                en: "category '\(category)' is unknown; use one of \(info.categories.joined(separator: ", "))",
                zh: "类别“\(category)”无法识别，请选择 "
                    + info.categories.map { Words.category($0, .zh) }.joined(separator: "、"))
        }
        let filter = DisputeFilter(
            office: Text.nonEmpty(q.office), status: try q.status.flatMap(Text.nonEmpty).map(Self.status),
            risk: try q.risk.flatMap(Text.nonEmpty).map(Self.risk), category: category,
            text: q.q)
        let zones = try await officeZones()
        let list = try await db.disputes(filter).map { d in
            guard let zone = zones[d.officeId] else {
                throw MediationError.unavailable("the time zone of office '\(d.officeId)' of \(d.number) was not read")
            }
            return wire(d, zone: zone)
        }
        return .ok(.init(body: .json(.init(disputes: list))))
    }

    func openDispute(_ input: Operations.OpenDispute.Input) async throws -> Operations.OpenDispute.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let zone: Zone
        do { zone = try await officeZone(b.office) } catch let e as MediationError where e.kind == .notFound {
            throw MediationError(.invalidInput, e.message, details: e.details, fields: e.fields)
        }
        var draft = Dispute(
            officeId: b.office, title: b.title, category: b.category, risk: try b.risk.map(Self.risk) ?? .low)
        try elements(b.elements, zone: zone, into: &draft.elements)
        let parties = try (b.parties ?? []).map { try party($0, officeZone: zone) }
        let detail = try await db.openDispute(
            draft, parties: parties, categories: info.categories, riskReason: b.riskReason, actor: actor)
        return .created(.init(body: .json(try await wire(detail))))
    }

    func getDispute(_ input: Operations.GetDispute.Input) async throws -> Operations.GetDispute.Output {
        let reveal = try revealAsked(input.query.reveal)
        let detail = try await db.dispute(input.path.dispute)
        if reveal { try await db.recordPartyReveal(detail) }
        var shown = try await wire(detail, reveal: reveal)
        shown.caseFile = try await caseFile(detail.dispute)
        return .ok(.init(body: .json(shown)))
    }

    func updateDispute(_ input: Operations.UpdateDispute.Input) async throws -> Operations.UpdateDispute.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let current = try await db.dispute(input.path.dispute).dispute
        let zone = try await officeZone(current.officeId)
        var elements = current.elements
        try self.elements(b.elements, zone: zone, into: &elements)
        let newElements = elements
        let detail = try await db.updateDispute(input.path.dispute, categories: info.categories) { d in
            if let v = b.title { d.title = v }
            if let v = b.category { d.category = v }
            d.elements = newElements
        }
        return .ok(.init(body: .json(try await wire(detail))))
    }

    func setDisputeRisk(_ input: Operations.SetDisputeRisk.Input) async throws -> Operations.SetDisputeRisk.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let detail = try await db.setRisk(
            input.path.dispute, to: try Self.risk(b.level), reason: b.reason, actor: actor)
        return .ok(.init(body: .json(try await wire(detail))))
    }

    func closeDispute(_ input: Operations.CloseDispute.Input) async throws -> Operations.CloseDispute.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let detail = try await db.changeStatus(input.path.dispute, to: .closed, reason: b.reason, actor: actor)
        return .ok(.init(body: .json(try await wire(detail))))
    }

    func reopenDispute(_ input: Operations.ReopenDispute.Input) async throws -> Operations.ReopenDispute.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let detail = try await db.changeStatus(input.path.dispute, to: .open, reason: b.reason, actor: actor)
        return .ok(.init(body: .json(try await wire(detail))))
    }

    func addParty(_ input: Operations.AddParty.Input) async throws -> Operations.AddParty.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let dispute = try await db.dispute(input.path.dispute).dispute
        let stored = try await db.addParty(
            input.path.dispute, try party(b, officeZone: try await officeZone(dispute.officeId)), rules: info.rules)
        return .created(.init(body: .json(try wireParty(stored, reveal: false))))
    }

    func updateParty(_ input: Operations.UpdateParty.Input) async throws -> Operations.UpdateParty.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let current = try await db.party(input.path.dispute, party: input.path.party)
        let zone = try Zone(b.timeZone ?? current.timeZone)
        let side = try b.side.map { text -> PartySide in
            guard let side = PartySide(parsing: text) else {
                throw MediationError.said(
                    .invalidInput, field: "side", en: "side '\(text)' is unknown; use applicant, respondent or other",
                    zh: "当事人身份“\(text)”无法识别，请选择 申请人、被申请人 或 其他")
            }
            return side
        }
        let weekly = try Wire.windows(b.weeklyWindows, text: b.hours, field: "weeklyWindows")
        let dated = try b.datedWindows.map { try $0.map { try self.dated($0, zone: zone) } }
        let channel = try Intake.partyChannel(b.channel)
        let stored = try await db.updateParty(input.path.dispute, party: input.path.party) { p in
            if let v = b.name { p.name = v }
            if let side { p.side = side }
            if let v = b.mobile { p.mobile = v }
            if let v = b.email { p.email = v }
            if let v = b.idCard { p.idCard = v }
            if let v = b.organisation { p.organisation = v }
            if let v = b.language { p.language = v }
            p.timeZone = zone.identifier
            if let weekly { p.weeklyWindows = weekly }
            if let dated { p.datedWindows = dated }
            // An empty channel clears the preference.
            if b.channel != nil { p.channel = channel }
        }
        return .ok(.init(body: .json(try wireParty(stored, reveal: false))))
    }

    func removeParty(_ input: Operations.RemoveParty.Input) async throws -> Operations.RemoveParty.Output {
        try await db.removeParty(input.path.dispute, party: input.path.party)
        return .noContent(.init())
    }

    func listConflicts(_ input: Operations.ListConflicts.Input) async throws -> Operations.ListConflicts.Output {
        let list = try await db.conflicts(
            expert: Text.nonEmpty(input.query.expert), dispute: Text.nonEmpty(input.query.dispute))
        return .ok(.init(body: .json(.init(conflicts: try await wireConflicts(list)))))
    }

    /// Conflicts as the API shows them, with the experts' names.
    func wireConflicts(_ list: [Conflict]) async throws -> [Components.Schemas.Conflict] {
        let names = try await db.expertNames(list.map(\.expertId))
        return list.map {
            .init(
                id: $0.id, expert: $0.expertId, expertName: names[$0.expertId], party: $0.partyId,
                organisation: $0.organisation, reason: $0.reason)
        }
    }

    func addConflict(_ input: Operations.AddConflict.Input) async throws -> Operations.AddConflict.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        let (c, warnings) = try await db.addConflict(
            expert: b.expert, partyId: b.party, organisation: b.organisation, reason: b.reason)
        return .created(
            .init(
                body: .json(
                    .init(
                        id: c.id, expert: c.expertId, party: c.partyId, organisation: c.organisation, reason: c.reason,
                        warnings: warnings.isEmpty
                            ? nil : warnings.map(Self.said)))))
    }

    func removeConflict(_ input: Operations.RemoveConflict.Input) async throws -> Operations.RemoveConflict.Output {
        try await db.removeConflict(input.path.conflict, reason: input.query.reason)
        return .noContent(.init())
    }

    private func wirePolicy(_ p: PanelPolicy) -> Components.Schemas.PanelPolicy {
        .init(
            name: p.name, description: Words.policyDescription(p, ReplyLanguage.current),
            requirements: p.requirements.map(\.description))
    }

    func listPolicies(_ input: Operations.ListPolicies.Input) async throws -> Operations.ListPolicies.Output {
        .ok(.init(body: .json(.init(policies: try await db.policies().map(wirePolicy)))))
    }

    func getPolicy(_ input: Operations.GetPolicy.Input) async throws -> Operations.GetPolicy.Output {
        .ok(.init(body: .json(wirePolicy(try await db.policy(input.path.policy)))))
    }

    func setPolicy(_ input: Operations.SetPolicy.Input) async throws -> Operations.SetPolicy.Output {
        guard case .json(let b) = input.body else { throw MediationError.invalidInput("send application/json") }
        var problems = Problems()
        var requirements: [PanelRequirement] = []
        for text in b.requirements {
            do { requirements.append(try PanelRequirement(parsing: text)) } catch let e as MediationError {
                problems.add(e)
            }
        }
        try problems.check("policy")
        let stored = try await db.setPolicy(
            PanelPolicy(name: input.path.policy, description: b.description, requirements: requirements))
        return .ok(.init(body: .json(wirePolicy(stored))))
    }
}
