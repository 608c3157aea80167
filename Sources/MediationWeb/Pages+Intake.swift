import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore

/// 纠纷登记: a clerk registers a dispute with its elements, its risk and its parties. The form is read by Core's intake
/// rules (`Intake`, `Dispute.validated`, `Party.validated`) and stored by `AppDatabase.openDispute`, the same
/// functions the API's `openDispute` calls; a refusal keeps what was typed and says beside each field what is wrong,
/// in the page's language, and writes nothing.
extension Pages {
    /// Party rows on the form; rows left blank are not parties.
    static let intakePartyRows = 3
    /// The seven elements of a dispute (七要素), in the order the form asks for them.
    static let elementFields = ["occurredAt", "location", "cause", "nature", "scale", "involved", "development"]

    func intakePage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        guard OperationRoles.allows(session.account.role, "openDispute") else { return roleRefused(request, session) }
        var typed = ["party-1-side": "applicant", "party-2-side": "respondent", "party-3-side": "other", "risk": "low"]
        // The form's own key: sent twice (a double click, a reload), it registers one dispute.
        typed["intake-key"] = AppDatabase.randomToken()
        if let office = try await db.offices(seenBy: session.account).first { typed["office"] = office.id }
        return try await intakeForm(request, session, typed: typed, errors: [:], general: nil)
    }

    func intake(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, form) = try await signedForm(request)
        guard OperationRoles.allows(session.account.role, "openDispute") else { return roleRefused(request, session) }
        let language = language(request)
        var errors: [String: String] = [:]
        func note(_ error: MediationError, prefix: String = "", general fallback: String) {
            if error.fields.isEmpty {
                errors[fallback] = language == .zh ? WebText.message("invalidInput", .zh) : error.message
            }
            for problem in error.fields where errors[prefix + problem.field] == nil {
                errors[prefix + problem.field] = language == .zh ? problem.zh : problem.en
            }
        }
        func text(_ key: String) -> String? { Text.nonEmpty(form[key]) }

        // The office: one the account sees (another reads as unknown).
        let offices = try await db.offices(seenBy: session.account)
        guard let office = offices.first(where: { $0.id == form["office"] }) else {
            errors["office"] = WebText.message("chooseOffice", language)
            return try await intakeForm(request, session, typed: form, errors: errors, general: nil)
        }
        let zone = try Zone(office.timeZone)
        let now = clock.now()

        var draft = Dispute(officeId: office.id, title: form["title"] ?? "", category: form["category"] ?? "")
        do { draft.risk = try Intake.risk(form["risk"] ?? "low") } catch let e as MediationError {
            note(e, general: "risk")
        }
        var scale: Int?
        if let typed = text("scale") {
            if let number = Int(Text.halfWidth(typed).trimmingWhitespace()) {
                scale = number
            } else {
                errors["scale"] = WebText.message("scaleNumber", language)
            }
        }
        do {
            try Intake.Elements(
                cause: form["cause"], occurredAt: form["occurredAt"], location: form["location"],
                nature: form["nature"], scale: scale, involved: form["involved"], development: form["development"]
            ).apply(to: &draft.elements, zone: zone, now: now)
        } catch let e as MediationError { note(e, general: "occurredAt") }
        do { _ = try draft.validated(categories: settings.categories, now: now, zone: zone) } catch let e
            as MediationError
        { note(e, general: "title") }

        var parties: [Party] = []
        for row in 1...Self.intakePartyRows {
            let prefix = "party-\(row)-"
            let fields = ["name", "mobile", "email", "idCard", "hours"].map { form[prefix + $0] ?? "" }
            guard fields.contains(where: { Text.nonEmpty($0) != nil }) else { continue }
            do {
                let party = try Intake.party(
                    name: form[prefix + "name"] ?? "", side: form[prefix + "side"] ?? "other",
                    mobile: text(prefix + "mobile"), email: text(prefix + "email"), idCard: text(prefix + "idCard"),
                    hours: text(prefix + "hours"), channel: text(prefix + "channel"), officeZone: zone, now: now)
                parties.append(try party.validated())
            } catch let e as MediationError { note(e, prefix: prefix, general: prefix + "name") }
        }
        if parties.count < 2 && errors.keys.allSatisfy({ !$0.hasPrefix("party-") }) {
            errors["parties"] = WebText.message("twoParties", language)
        }
        // A conflict of interest entered with the dispute: an expert, and a party typed above (by name) or an
        // organisation; stored by the store with the dispute, in one transaction.
        var conflicts: [IntakeConflict] = []
        let conflictExpert = text("conflict-expert")
        let conflictWith = text("conflict-with")
        if conflictExpert != nil || conflictWith != nil || text("conflict-reason") != nil {
            if conflictExpert == nil { errors["conflict-expert"] = WebText.message("conflictExpert", language) }
            if conflictWith == nil { errors["conflict-with"] = WebText.message("conflictWhom", language) }
            if let expert = conflictExpert, let with = conflictWith {
                let party = parties.firstIndex { $0.name == with.trimmingWhitespace() }
                conflicts.append(
                    IntakeConflict(
                        expert: expert, party: party, organisation: party == nil ? with : nil,
                        reason: text("conflict-reason")))
            }
        }
        guard errors.isEmpty else { return try await intakeForm(request, session, typed: form, errors: errors) }

        do {
            let detail = try await AuditActor.$current.withValue(
                AuditActor(uid: 0, user: session.account.name, role: "console")
            ) {
                try await db.openDispute(
                    draft, parties: parties, categories: settings.categories, riskReason: text("riskReason"),
                    actor: Actor(uid: 0, user: session.account.name, isAdmin: session.account.role == .admin),
                    conflicts: conflicts,
                    intakeKey: text("intake-key").flatMap { $0.count <= 64 && $0.allSatisfy { $0.isASCII } ? $0 : nil })
            }
            return redirect("/disputes/\(Self.percentEncoded(detail.dispute.number))?registered=1")
        } catch let e as MediationError where e.kind == .notFound && !conflicts.isEmpty {
            // The only thing intake looks up: the conflict's expert. Nothing was written.
            errors["conflict-expert"] = language == .en ? e.message : WebText.message("noExpert", language)
            return try await intakeForm(request, session, typed: form, errors: errors)
        } catch let e as MediationError where e.kind == .invalidInput || e.kind == .conflict {
            note(e, general: "general")
            return try await intakeForm(request, session, typed: form, errors: errors)
        }
    }

    /// The form with what was typed and each field's problem beside it; 422 when there are problems.
    private func intakeForm(
        _ request: Request, _ session: ConsoleSession, typed: [String: String], errors: [String: String],
        general: String? = nil
    ) async throws -> Response {
        let language = language(request)
        let labels = WebText.labels(language)
        func field(_ key: String, label: String, multiline: Bool = false) -> [String: Any] {
            var values: [String: Any] = [
                "key": key, "label": label, "value": typed[key] ?? "", "hasError": errors[key] != nil,
                "multiline": multiline,
            ]
            if let error = errors[key] { values["error"] = error }
            return values
        }
        let offices = try await db.offices(seenBy: session.account).map {
            ["id": $0.id, "name": $0.name, "chosen": $0.id == typed["office"]] as [String: Any]
        }
        let categories = settings.categories.map {
            ["code": $0, "name": Words.category($0, language), "chosen": $0 == typed["category"]] as [String: Any]
        }
        let risks = RiskLevel.allCases.map {
            ["code": $0.rawValue, "name": Words.risk($0, language), "chosen": $0.rawValue == typed["risk"]]
                as [String: Any]
        }
        let elements = Self.elementFields.map {
            field($0, label: labels["element-\($0)"] ?? $0, multiline: !["occurredAt", "scale"].contains($0))
        }
        let parties = (1...Self.intakePartyRows).map { row -> [String: Any] in
            let prefix = "party-\(row)-"
            var values: [String: Any] = [
                "row": row,
                "name": field(prefix + "name", label: labels["partyName"] ?? ""),
                "mobile": field(prefix + "mobile", label: labels["mobile"] ?? ""),
                "idCard": field(prefix + "idCard", label: labels["idCard"] ?? ""),
                "email": field(prefix + "email", label: labels["partyEmail"] ?? ""),
                "channelKey": prefix + "channel",
                "channels": ([nil] + PartyChannel.allCases.map { Optional($0) }).map { c in
                    [
                        "code": c?.rawValue ?? "", "name": Words.partyChannel(c, language),
                        "chosen": (c?.rawValue ?? "") == (typed[prefix + "channel"] ?? ""),
                    ] as [String: Any]
                },
                "hours": field(prefix + "hours", label: labels["partyHours"] ?? ""),
                "sideKey": prefix + "side",
                "sides": PartySide.allCases.map {
                    [
                        "code": $0.rawValue, "name": Words.side($0, language),
                        "chosen": $0.rawValue == typed[prefix + "side"],
                    ] as [String: Any]
                },
            ]
            if let error = errors[prefix + "side"] { values["sideError"] = error }
            if let error = errors[prefix + "channel"] { values["channelError"] = error }
            return values
        }
        let hasErrors = !errors.isEmpty
        // Only the problems there are: an empty string would still open a section of the template.
        var problems: [String: Any] = [:]
        for (key, name) in [
            ("office", "officeError"), ("category", "categoryError"), ("risk", "riskError"),
            ("parties", "partiesError"), ("general", "general"),
        ] {
            if let error = errors[key] { problems[name] = error }
        }
        if problems["general"] == nil, let general { problems["general"] = general }
        return render(
            "intake", request, user: session, title: labels["intake"] ?? "",
            values: [
                "offices": offices, "categories": categories, "risks": risks, "intakeKey": typed["intake-key"] ?? "",
                "title": field("title", label: labels["disputeTitle"] ?? ""),
                "riskReason": field("riskReason", label: labels["riskReason"] ?? "", multiline: true),
                "elements": elements, "parties": parties, "hasErrors": hasErrors,
                "conflictFields": [
                    field("conflict-expert", label: labels["conflictExpert"] ?? ""),
                    field("conflict-with", label: labels["conflictWithParty"] ?? ""),
                    field("conflict-reason", label: labels["conflictReason"] ?? ""),
                ],
            ].merging(problems) { a, _ in a }, status: hasErrors ? .unprocessableContent : .ok)
    }

    /// A page or form the account's role may not use: 403 in the page's language.
    func roleRefused(_ request: Request, _ session: ConsoleSession) -> Response {
        let language = language(request)
        return render(
            "error", request, user: session, title: WebText.labels(language)["forbidden"] ?? "",
            values: [
                "heading": WebText.labels(language)["forbidden"] ?? "", "message": WebText.message("role", language),
            ], status: .forbidden)
    }
}
