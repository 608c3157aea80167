import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore
import NIOCore

/// One session (调解场次): its time in the office's zone, its panel and their answers, and what staff do with it —
/// start, end, no-show, cancel with a reason, and record its outcome (结果). Each is the API's own store function
/// (`AppDatabase.mark`, `cancel`, `recordOutcome` with `Intake.outcome`), so the rules about when a session may
/// start or end, and what an outcome needs, are the ones `mediationctl` meets.
extension Pages {
    /// The session if the account sees its office (another office's reads as one that does not exist).
    private func visibleSession(_ context: WebRequestContext, _ account: Account) async throws -> Session {
        let notFound = MediationError.notFound("no such session")
        guard let id = Int64(context.parameters.get("id") ?? "") else { throw notFound }
        let session: Session
        do { session = try await db.session(id) } catch let e as MediationError where e.kind == .notFound {
            throw notFound
        }
        guard OfficeScope.allows(account, office: session.officeId) else { throw notFound }
        return session
    }

    func sessionPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let signed = try await session(request) else { return redirect("/login") }
        if let gate = gate(signed) { return gate }
        let s = try await visibleSession(context, signed.account)
        return try await sessionView(request, signed, s, typed: [:], errors: [:])
    }

    func markSession(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try await sessionChange(request, context, operation: "markSession") { form, signed, s in
            guard let status = SessionStatus(rawValue: form["status"] ?? ""),
                [.inSession, .ended, .noShow].contains(status)
            else { throw PageRefusal(key: "badStatus", typed: form["status"] ?? "") }
            _ = try await db.mark(session: s.id, status, rules: settings.rules, actor: Self.actor(signed))
        }
    }

    func cancelSession(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try await sessionChange(request, context, operation: "cancelSession") { form, signed, s in
            guard let reason = Text.nonEmpty(form["reason"]) else {
                throw MediationError(
                    .invalidInput, "give the reason for cancelling",
                    fields: [
                        FieldProblem(
                            field: "reason", en: "give the reason for cancelling", zh: "请填写取消的原因，它会告知专家和当事人")
                    ])
            }
            _ = try await db.cancel(session: s.id, reason: reason, actor: Self.actor(signed))
        }
    }

    /// An expert's answer to the invitation as the clerk heard it (phone, chat): accepted or declined, through the
    /// store's `rsvp` as the API's rsvpSession; a decline opens the ranked substitutes for that seat.
    func rsvp(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try await sessionChangeThen(request, context, operation: "rsvpSession") { form, signed, s in
            guard let answer = Invitation(rawValue: form["answer"] ?? ""), answer != .pending,
                let expert = Text.nonEmpty(form["expert"])
            else { throw PageRefusal(key: "badStatus", typed: form["answer"] ?? "") }
            _ = try await db.rsvp(session: s.id, expert: expert, answer, rules: settings.rules)
            return answer == .declined ? "/sessions/\(s.id)?replace=\(expert)#substitutes" : nil
        }
    }

    /// 打印调解协议书: the agreement of this session as the API's getAgreement gives it (the store's `printAgreement`,
    /// audited; full numbers for the reveal roles only), laid out by the office's template, as its own page.
    func agreement(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let signed = try await session(request) else { return redirect("/login") }
        if let gate = gate(signed) { return gate }
        let s = try await visibleSession(context, signed.account)
        guard OperationRoles.allows(signed.account.role, "getAgreement") else { return roleRefused(request, signed) }
        let sheet: AgreementSheet
        do {
            sheet = try await AuditActor.$current.withValue(
                AuditActor(uid: 0, user: signed.account.name, role: "console")
            ) { try await db.printAgreement(session: s.id, reveal: settings.privacy.allowsReveal(signed.account.role)) }
        } catch let e as MediationError where [.conflict, .notFound].contains(e.kind) && !e.fields.isEmpty {
            let language = language(request)
            return try await sessionView(
                request, signed, s, typed: [:],
                errors: ["general": e.fields.first.map { language == .zh ? $0.zh : $0.en } ?? e.message])
        }
        guard let html = settings.notices.document("agreement", sheet.values) else {
            throw MediationError.unavailable("this daemon has no agreement template (zh/agreement.mustache)")
        }
        return Self.document(html)
    }

    /// 打印调解笔录: the record to fill in by hand, as the API's getSessionRecord gives it.
    func sessionRecord(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let signed = try await session(request) else { return redirect("/login") }
        if let gate = gate(signed) { return gate }
        let s = try await visibleSession(context, signed.account)
        guard OperationRoles.allows(signed.account.role, "getSessionRecord") else {
            return roleRefused(request, signed)
        }
        guard let html = settings.notices.document("record", try await db.recordSheet(session: s.id).values) else {
            throw MediationError.unavailable("this daemon has no session-record template (zh/record.mustache)")
        }
        return Self.document(html)
    }

    /// A printed document: its own page, whose style is inline (a file an office adapts), so its policy allows
    /// inline style and nothing else.
    static func document(_ html: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// 改期: the new start in the office's zone, read by Core's `Intake.sessionStart` and moved by the store's
    /// `reschedule` (the same panel re-checked, everyone told), as the API's rescheduleSession does.
    func rescheduleSession(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try await sessionChange(request, context, operation: "rescheduleSession") { form, signed, s in
            let zone = try Zone(try await db.office(s.officeId).timeZone)
            let start = try Intake.sessionStart(form["start"] ?? "", field: "start", zone: zone, now: clock.now())
            _ = try await db.reschedule(session: s.id, to: start, rules: settings.rules, actor: Self.actor(signed))
        }
    }

    /// 替换专家: one panel member's seat given to a substitute the store ranks (`substitutes`, fairest first) and
    /// checked again by its `replace`, as the API's listSubstitutes and replaceMember do.
    func replaceMember(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try await sessionChange(request, context, operation: "replaceMember") { form, signed, s in
            guard let old = Text.nonEmpty(form["expert"]), let new = Text.nonEmpty(form["with"]) else {
                throw MediationError(
                    .invalidInput, "choose the expert to replace and the substitute",
                    fields: [
                        FieldProblem(
                            field: "general", en: "choose the expert to replace and the substitute", zh: "请选择要替换的专家和替补")
                    ])
            }
            _ = try await db.replace(
                session: s.id, expert: old, with: new, rules: settings.rules, actor: Self.actor(signed))
        }
    }

    func recordOutcome(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try await sessionChange(request, context, operation: "recordOutcome") { form, signed, s in
            let outcome = try Intake.outcome(
                session: s.id, result: form["result"] ?? "", terms: Text.nonEmpty(form["terms"]),
                amount: form["amount"], signed: form["signed"] == "on", notes: Text.nonEmpty(form["notes"]),
                to: Text.nonEmpty(form["to"]))
            _ = try await db.recordOutcome(
                session: s.id, outcome, policy: settings.followUps, actor: Self.actor(signed))
        }
    }

    /// 更正: the outcome corrected (what is given changes), as `mediationctl outcome amend` does.
    func amendOutcome(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try await sessionChange(request, context, operation: "amendOutcome") { form, signed, s in
            let amendment = try Intake.amendment(
                result: Text.nonEmpty(form["result"]), terms: Text.nonEmpty(form["terms"]), amount: form["amount"],
                signed: form["signed"] == "on", notes: nil, to: Text.nonEmpty(form["to"]),
                reason: Text.nonEmpty(form["reason"]))
            _ = try await db.amendOutcome(
                session: s.id, amendment, policy: settings.followUps, actor: Self.actor(signed))
        }
    }

    /// 作废: the outcome voided with a reason, as `mediationctl outcome void` does; it may then be recorded again.
    func voidOutcome(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try await sessionChange(request, context, operation: "voidOutcome") { form, signed, s in
            guard let reason = Text.nonEmpty(form["voidReason"]) else {
                throw MediationError(
                    .invalidInput, "voiding an outcome needs a reason",
                    fields: [
                        FieldProblem(
                            field: "voidReason", en: "voiding an outcome needs a reason", zh: "请填写作废的原因，它会记入审计记录")
                    ])
            }
            _ = try await db.voidOutcome(session: s.id, reason: reason, actor: Self.actor(signed))
        }
    }

    /// A form that changes a session: its token, the role for the API's same operation, the change in the console's
    /// name, then the session page again; a refusal shows the page with the problem beside its field.
    private func sessionChange(
        _ request: Request, _ context: WebRequestContext, operation: String,
        _ change: @Sendable ([String: String], ConsoleSession, Session) async throws -> Void
    ) async throws -> Response {
        try await sessionChangeThen(request, context, operation: operation) { form, signed, s -> String? in
            try await change(form, signed, s)
            return nil
        }
    }

    /// `sessionChange` whose change may name the page to go to next (nil: the session page).
    private func sessionChangeThen(
        _ request: Request, _ context: WebRequestContext, operation: String,
        _ change: @Sendable ([String: String], ConsoleSession, Session) async throws -> String?
    ) async throws -> Response {
        let (signed, form) = try await signedForm(request)
        let s = try await visibleSession(context, signed.account)
        guard OperationRoles.allows(signed.account.role, operation) else { return roleRefused(request, signed) }
        let language = language(request)
        settings.notices.changeStarted()
        defer { settings.notices.changeEnded() }
        do {
            let next = try await AuditActor.$current.withValue(
                AuditActor(uid: 0, user: signed.account.name, role: "console")
            ) { try await change(form, signed, s) }
            return redirect(next ?? "/sessions/\(s.id)?done=\(operation)")
        } catch let e as MediationError
            where ["amendOutcome", "voidOutcome"].contains(operation) && e.kind == .notFound
        {
            // The outcome is gone (voided in another tab): the session is still there, and says so.
            return try await sessionView(request, signed, s, typed: [:], errors: ["general": e.message(in: language)])
        } catch let e as MediationError where operation == "recordOutcome" && e.kind == .conflict {
            // Recorded already (another tab, a colleague): the page's own buttons, not the command line's.
            return try await sessionView(
                request, signed, s, typed: [:], errors: ["general": WebText.message("outcomeExists", language)])
        } catch let e as MediationError where [.invalidInput, .conflict].contains(e.kind) {
            let sent = Self.sessionForms[operation] ?? (fields: [], other: "general")
            return try await sessionView(
                request, signed, s, typed: form,
                errors: Self.fieldErrors(
                    e, language, general: sent.other, saying: "sessionRefused", onPage: sent.fields.union(["general"])))
        }
    }

    /// Each form of the session page by the API operation it sends: its fields, and where a problem about any other
    /// field is said — beside the form's one field (a reschedule to a time gone by, which the finder says of its
    /// window's end), else under the page's first line. Forms not named here have no field of their own.
    static let sessionForms: [String: (fields: Set<String>, other: String)] = [
        "rescheduleSession": (["start"], "start"), "cancelSession": (["reason"], "reason"),
        "recordOutcome": (["result", "amount", "to", "terms"], "general"),
        "amendOutcome": (["amount", "to"], "general"),
        "voidOutcome": (["voidReason"], "general"),
    ]

    /// The session page's fields a refusal is shown beside (the others' under the page's first line).
    static let sessionFields: Set<String> = [
        "general", "start", "reason", "amount", "voidReason", "result", "to", "terms",
    ]

    /// A time as the reschedule form takes it back: `2026-12-14 14:00` in the office's zone.
    static func wallText(_ date: Date, _ zone: Zone) -> String {
        let wall = zone.wallClock(date)
        return wall.date.description + " " + Self.clockTime(date, zone)
    }

    private static func actor(_ signed: ConsoleSession) -> Actor {
        Actor(uid: 0, user: signed.account.name, isAdmin: signed.account.role == .admin)
    }

    private func sessionView(
        _ request: Request, _ signed: ConsoleSession, _ s: Session, typed: [String: String], errors: [String: String]
    ) async throws -> Response {
        let language = language(request)
        let labels = WebText.labels(language)
        let zone = try Zone(try await db.office(s.officeId).timeZone)
        let dispute = try await db.dispute(String(s.disputeId)).dispute
        let experts = try await db.display([s]).names
        let outcome = try await db.outcomes(dispute: String(s.disputeId)).first { $0.sessionId == s.id }
        let role = signed.account.role
        let now = clock.now()
        /// Whether the session may be marked `target` now (the store's own check): a button shows only then.
        func markable(_ target: SessionStatus) -> Bool {
            guard OperationRoles.allows(role, "markSession"), (try? s.status.check(target, session: s.id)) != nil else {
                return false
            }
            return
                (try? s.checkMarkable(
                    target, now: now, startMarginMinutes: settings.rules.startMarginMinutes, zone: zone)) != nil
        }
        let canAnswer = s.status == .booked && OperationRoles.allows(role, "rsvpSession")
        var values: [String: Any] = [
            "id": s.id, "disputeNumber": dispute.number, "disputeTitle": dispute.title,
            "time": Self.format(s.start, zone, language) + "–" + Self.clockTime(s.end, zone),
            "status": Words.sessionStatus(s.status, language), "statusCode": s.status.rawValue,
            "panel": s.panel.map { m -> [String: Any] in
                [
                    "name": experts[m.expertId] ?? "#\(m.expertId)",
                    "role": Words.expertRole(m.requirement.role, language),
                    "answer": Words.invitation(m.invitation, language), "lead": m.lead, "expertId": m.expertId,
                    "sessionId": s.id, "canAccept": canAnswer && m.invitation != .accepted,
                    "canDecline": canAnswer && m.invitation != .declined,
                ]
            },
            "canStart": markable(.inSession), "canEnd": markable(.ended), "canNoShow": markable(.noShow),
            // Before its margin, when it may be started instead of a button that would be refused.
            "canCancel": s.status == .booked && OperationRoles.allows(role, "cancelSession"),
            "canReschedule": s.status == .booked && OperationRoles.allows(role, "rescheduleSession"),
            "canReplace": s.status == .booked && OperationRoles.allows(role, "replaceMember"),
            "typedStart": typed["start"] ?? Self.wallText(s.start, zone),
            "canRecord": s.status == .ended && outcome == nil && OperationRoles.allows(role, "recordOutcome"),
            "results": OutcomeResult.allCases.map {
                [
                    "code": $0.rawValue,
                    "name": language == .zh
                        ? $0.chinese
                        : $0.rawValue.replacingOccurrences(
                            of: "_", with: " "), "chosen": $0.rawValue == typed["result"],
                ] as [String: Any]
            },
            "typedTerms": typed["terms"] ?? "", "typedAmount": typed["amount"] ?? "",
            "typedNotes": typed["notes"] ?? "",
            "typedTo": typed["to"] ?? "", "typedReason": typed["reason"] ?? "", "typedSigned": typed["signed"] == "on",
            "done": request.uri.queryParameters.get("done") != nil,
        ]
        // The substitutes for one seat, fairest first, when the clerk asked for them.
        if s.status == .booked, OperationRoles.allows(role, "replaceMember"),
            let asked = request.uri.queryParameters.get("replace").flatMap({ Int64($0) }),
            let seat = s.panel.first(where: { $0.expertId == asked })
        {
            values["replacing"] = experts[seat.expertId] ?? "#\(seat.expertId)"
            values["replaceExpert"] = seat.expertId
            values["substitutes"] = try await db.substitutes(
                session: s.id, replacing: seat.expertId, rules: settings.rules
            )
            .map { ["expertId": $0.expertId, "name": $0.name, "recent": $0.sessionsLast30Days] as [String: Any] }
        }
        // Whom its notices cannot reach personally: staff call them.
        if s.status == .booked {
            let people = try await db.unreached(session: s.id, available: settings.notices.personalChannels)
            if !people.isEmpty {
                values["hasUnreached"] = true
                values["unreached"] = people.map {
                    ["who": Words.recipient($0.kind, language), "why": language == .zh ? $0.why.zh : $0.why.en]
                }
            }
        }
        // A panel member who declined and was not replaced: said before anyone starts the session without them.
        let declined = s.panel.filter { $0.invitation == .declined }.map { experts[$0.expertId] ?? "#\($0.expertId)" }
        if [.booked, .inSession].contains(s.status), !declined.isEmpty {
            values["declinedWarning"] = declined.joined(separator: language == .zh ? "、" : ", ")
        }
        // A panel member whose leave covers the session (entered after the booking): replace them before it starts.
        if [.booked, .inSession].contains(s.status) {
            var onLeave: [String] = []
            for m in s.panel
            where !(try await db.spans(.timeOff, expert: String(m.expertId), overlapping: s.interval).isEmpty) {
                onLeave.append(experts[m.expertId] ?? "#\(m.expertId)")
            }
            if !onLeave.isEmpty { values["leaveWarning"] = onLeave.joined(separator: language == .zh ? "、" : ", ") }
        }
        // Before its margin: when it may be started, instead of a button that would be refused.
        if s.status == .booked, !markable(.inSession), OperationRoles.allows(role, "markSession") {
            let earliest = s.start.addingTimeInterval(-TimeInterval(settings.rules.startMarginMinutes * 60))
            values["startsFrom"] = Self.format(earliest, zone, language)
        }
        if let reason = s.cancelReason { values["cancelReason"] = reason }
        if let room = s.room, OperationRoles.allows(role, "getSessionLinks") { values["room"] = room }
        values["canPrintRecord"] = OperationRoles.allows(role, "getSessionRecord") && s.status != .cancelled
        if let outcome {
            var shown: [String: Any] = [
                "result": language == .zh ? outcome.result.chinese : outcome.result.rawValue,
                "signed": outcome.signed,
            ]
            if let terms = outcome.terms { shown["terms"] = terms }
            if let fen = outcome.amountFen { shown["amount"] = Money.format(fen: fen) }
            values["outcome"] = shown
            if [.agreement, .partialAgreement].contains(outcome.result), OperationRoles.allows(role, "getAgreement") {
                values["canPrintAgreement"] = true
            }
            if OperationRoles.allows(role, "amendOutcome") {
                values["canCorrect"] = true
                values["amendResults"] = OutcomeResult.allCases.map {
                    [
                        "code": $0.rawValue, "name": language == .zh ? $0.chinese : $0.rawValue,
                        "chosen": $0.rawValue == (typed["result"] ?? outcome.result.rawValue),
                    ] as [String: Any]
                }
                values["currentTerms"] = typed["terms"] ?? outcome.terms ?? ""
                values["currentAmount"] = typed["amount"] ?? outcome.amountFen.map { Money.format(fen: $0) } ?? ""
                values["currentTo"] = typed["to"] ?? outcome.referredTo ?? ""
                values["currentSigned"] = typed["signed"].map { $0 == "on" } ?? outcome.signed
                values["typedVoidReason"] = typed["voidReason"] ?? ""
            }
        }
        // A problem beside a form the page no longer shows (an outcome recorded twice: its form is gone) is said
        // under the page's first line instead.
        var shownFields: Set<String> = ["general"]
        for (shown, fields) in [
            (values["canReschedule"], ["start"]), (values["canCancel"], ["reason"]),
            (values["canRecord"], ["result", "amount", "to", "terms"]),
            (values["canCorrect"], ["amount", "to", "voidReason"]),
        ] where shown as? Bool == true {
            shownFields.formUnion(fields)
        }
        var errors = errors
        for (key, error) in errors where !shownFields.contains(key) {
            errors[key] = nil
            errors["general"] = errors["general"].map { $0 + (language == .zh ? "；" : "; ") + error } ?? error
        }
        for (key, error) in errors { values["error_\(key)"] = error }
        for key in Self.sessionFields where errors[key] != nil {
            values["has_\(key)"] = true
        }
        return render(
            "session", request, user: signed, title: labels["sessionWord"] ?? "", values: values,
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }
}
