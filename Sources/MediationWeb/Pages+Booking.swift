import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore

/// 预约: find times for a dispute when a full panel and the parties are free, and book one. The search is the API's
/// `findSlots` (`AppDatabase.findSlots` with the daemon's scheduling rules) and the booking its `bookSession` by
/// option (`AppDatabase.bookOptionShown`, with a room and the outbox told), so the console books exactly as
/// `mediationctl session find` and `session book --option` do.
extension Pages {
    func findPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        let detail = try await db.dispute(context.parameters.get("ref") ?? "", seenBy: session.account)
        guard OperationRoles.allows(session.account.role, "findSlots") else { return roleRefused(request, session) }
        let zone = try Zone(try await db.office(detail.dispute.officeId).timeZone)
        let today = zone.wallClock(clock.now()).date
        let typed = ["from": today.adding(days: 1).description, "to": today.adding(days: 14).description]
        return try await findForm(request, session, detail.dispute, typed: typed, errors: [:], finding: nil)
    }

    func find(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, form) = try await signedForm(request)
        let dispute = try await db.dispute(context.parameters.get("ref") ?? "", seenBy: session.account).dispute
        guard OperationRoles.allows(session.account.role, "findSlots") else { return roleRefused(request, session) }
        let language = language(request)
        let zone = try Zone(try await db.office(dispute.officeId).timeZone)
        let now = clock.now()
        var errors: [String: String] = [:]
        func note(_ error: MediationError, general: String) {
            if error.fields.isEmpty { errors[general] = language == .en ? error.message : nil }
            for problem in error.fields { errors[problem.field] = language == .zh ? problem.zh : problem.en }
            if errors.isEmpty { errors[general] = WebText.message("invalidInput", language) }
        }
        var from: Date?
        var to: Date?
        do { from = try Intake.moment(form["from"], field: "from", zh: "开始日期", zone: zone, now: now) } catch let e
            as MediationError
        { note(e, general: "from") }
        do {
            to = try Intake.moment(form["to"], field: "to", zh: "结束日期", zone: zone, endOfDay: true, now: now)
        } catch let e as MediationError { note(e, general: "to") }
        if from == nil && errors["from"] == nil { errors["from"] = WebText.message("giveDay", language) }
        if to == nil && errors["to"] == nil { errors["to"] = WebText.message("giveDay", language) }
        var minutes: Int?
        if let typed = Text.nonEmpty(form["minutes"]) {
            if let number = Int(Text.halfWidth(typed).trimmingWhitespace()) {
                minutes = number
            } else {
                errors["minutes"] = WebText.message("minutesNumber", language)
            }
        }
        // Pinned and excluded experts, named as the API's search names them (the store's `expertIDs`).
        var pinned: [Int64] = []
        var excluded: [Int64] = []
        do { pinned = try await db.expertIDs(Self.names(form["pin"]), field: "pin") } catch let e as MediationError
            where e.kind == .invalidInput
        { note(e, general: "pin") }
        do {
            excluded = try await db.expertIDs(Self.names(form["exclude"]), field: "exclude")
        } catch let e as MediationError where e.kind == .invalidInput { note(e, general: "exclude") }
        guard errors.isEmpty, let from, let to else {
            return try await findForm(request, session, dispute, typed: form, errors: errors, finding: nil)
        }
        do {
            let finding = try await db.findSlots(
                dispute: dispute.number, policy: Text.nonEmpty(form["policy"]), durationMinutes: minutes,
                window: Interval(start: from, end: to), pinned: pinned, excluded: excluded, rules: settings.rules,
                maxOptions: 5)
            return try await findForm(request, session, dispute, typed: form, errors: [:], finding: finding)
        } catch let e as MediationError where e.kind == .invalidInput || e.kind == .conflict {
            errors = Self.fieldErrors(
                e, language, saying: "cannotSearch", onPage: ["general", "from", "to", "minutes", "pin", "exclude"])
            return try await findForm(request, session, dispute, typed: form, errors: errors, finding: nil)
        }
    }

    func book(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, form) = try await signedForm(request)
        let dispute = try await db.dispute(context.parameters.get("ref") ?? "", seenBy: session.account).dispute
        guard OperationRoles.allows(session.account.role, "bookSession") else { return roleRefused(request, session) }
        guard let option = Int(form["option"] ?? "") else {
            throw PageRefusal(key: "noOption", typed: form["option"] ?? "")
        }
        settings.notices.changeStarted()
        defer { settings.notices.changeEnded() }
        do {
            let booked = try await AuditActor.$current.withValue(
                AuditActor(uid: 0, user: session.account.name, role: "console")
            ) {
                try await db.bookOptionShown(
                    dispute: dispute.number, number: option, rules: settings.rules, room: settings.rooms.newRoomName(),
                    actor: Actor(uid: 0, user: session.account.name, isAdmin: session.account.role == .admin))
            }
            return redirect("/disputes/\(Self.percentEncoded(dispute.number))?booked=\(booked.session.id)")
        } catch let e as MediationError where e.kind == .conflict || e.kind == .invalidInput {
            // Taken meanwhile, or the search has gone stale: say so, and offer a new search.
            let language = language(request)
            return render(
                "error", request, user: session, title: WebText.labels(language)["book"] ?? "",
                values: [
                    "heading": WebText.labels(language)["book"] ?? "",
                    "message": language == .en || e.fields.isEmpty
                        ? (language == .en ? e.message : WebText.message("bookConflict", language))
                        : e.message(in: language),
                    "searchAgain": "/disputes/\(Self.percentEncoded(dispute.number))/find",
                ], status: .conflict)
        }
    }

    /// Experts typed into one field, separated by commas (either width), 、 or new lines.
    static func names(_ typed: String?) -> [String] {
        (typed ?? "").split(whereSeparator: { ",，、;；\n\r".contains($0) }).compactMap {
            Text.nonEmpty(String($0))
        }
    }

    /// The search form, and the options of a search when there is one.
    private func findForm(
        _ request: Request, _ session: ConsoleSession, _ dispute: Dispute, typed: [String: String],
        errors: [String: String], finding: SlotFinding?
    ) async throws -> Response {
        let language = language(request)
        let labels = WebText.labels(language)
        let zone = try Zone(try await db.office(dispute.officeId).timeZone)
        func field(_ key: String, _ label: String) -> [String: Any] {
            var values: [String: Any] = ["key": key, "label": label, "value": typed[key] ?? ""]
            if let error = errors[key] { values["error"] = error }
            return values
        }
        let stored = try await db.policies()
        let policies = stored.map {
            ["name": $0.name, "label": Words.policy($0, language), "chosen": $0.name == typed["policy"]]
                as [String: Any]
        }
        var values: [String: Any] = [
            "disputeNumber": dispute.number, "title": dispute.title, "policies": policies,
            "from": field("from", labels["fromDay"] ?? ""), "to": field("to", labels["toDay"] ?? ""),
            "minutes": field("minutes", labels["minutes"] ?? ""),
            "pin": field("pin", labels["pinExperts"] ?? ""),
            "exclude": field("exclude", labels["excludeExperts"] ?? ""),
        ]
        if let general = errors["general"] { values["general"] = general }
        if let finding {
            func option(_ o: SlotOption, number: Int) -> [String: Any] {
                var values: [String: Any] = [
                    "number": number,
                    "time": Self.format(o.start, zone, language) + "–" + Self.clockTime(o.end, zone),
                    "panel": o.panel.map { member -> [String: Any] in
                        let requirement = finding.requirements[member.requirementIndex]
                        return [
                            "name": finding.names[member.expertId] ?? "#\(member.expertId)",
                            "role": Words.expertRole(requirement.role, language),
                        ]
                    },
                ]
                // Why this option: when, each member's role and matching specialties, and their recent sessions (the
                // fairness the finder weighed), in the page's language; an empty string would still open the section.
                let why = language == .zh ? o.explanationChinese : o.explanation
                if !why.isEmpty { values["why"] = why }
                return values
            }
            values["searched"] = true
            values["options"] = finding.answer.options.enumerated().map { option($1, number: $0 + 1) }
            values["none"] = finding.answer.options.isEmpty
            if let nearest = finding.answer.nearest { values["nearest"] = option(nearest, number: 0) }
            // Why nothing fits, each reason in the page's language (the finder says them in both).
            values["reasons"] = language == .zh ? finding.answer.reasonsChinese : finding.answer.reasons
            values["policy"] =
                stored.first { $0.name == finding.policy }.map { Words.policy($0, language) }
                ?? finding.policy
            values["length"] = finding.durationMinutes
        }
        return render(
            "find", request, user: session, title: labels["find"] ?? "", values: values,
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }
}
