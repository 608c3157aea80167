import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore

/// The parts of the case file beyond its facts: the risk history, escalations (升级: 民转刑, violence, petition) with
/// the form that records one (Core's `Intake.escalation` and the store's `addEscalation`, as the API's
/// addEscalation), the audit trail (for roles that may read the audit through the API), and the audited reveal of
/// the parties' full numbers (`privacy.reveal_roles`, recorded by the store's `recordPartyReveal`, as `--reveal`).
extension Pages {
    /// The risk history, escalations, trail and reveal button of a case file.
    func recordValues(
        _ detail: DisputeDetail, zone: Zone, _ language: Language, typed: [String: String], errors: [String: String],
        session: ConsoleSession
    ) async throws -> [String: Any] {
        let role = session.account.role
        let d = detail.dispute
        var values: [String: Any] = [
            "riskHistory": detail.riskHistory.reversed().map { change -> [String: Any] in
                [
                    "at": Self.format(change.at, zone, language),
                    "from": change.from.map { Words.risk($0, language) } ?? "-", "to": Words.risk(change.to, language),
                    // A dispute opened without a reason for its risk has the store's own word for it.
                    "reason": change.from == nil && change.reason == "opened"
                        ? (WebText.labels(language)["riskAtIntake"] ?? "")
                        : Words.historyReason(change.reason, language),
                    "by": change.user ?? "uid \(change.uid)",
                ]
            },
            "escalations": try await db.escalations(dispute: String(d.id)).map { e -> [String: Any] in
                var row: [String: Any] = [
                    "kind": language == .zh ? e.kind.chinese : e.kind.rawValue, "day": e.occurredOn.description,
                ]
                if let ref = e.caseReference { row["caseRef"] = ref }
                if let notes = e.notes { row["notes"] = notes }
                return row
            },
            "canEscalate": OperationRoles.allows(role, "addEscalation"),
            "escalationKinds": EscalationKind.allCases.map { kind -> [String: Any] in
                [
                    "code": kind.rawValue, "name": language == .zh ? kind.chinese : kind.rawValue,
                    "chosen": kind.rawValue == typed["kind"],
                ]
            },
            "typedEscalationDate": typed["date"] ?? "", "typedCaseRef": typed["case"] ?? "",
            "typedEscalationNotes": typed["escalationNotes"] ?? "",
            "canReveal": settings.privacy.allowsReveal(role),
        ]
        for key in ["kind", "date", "case", "escalation"] {
            if let error = errors[key] { values["escalationError_\(key)"] = error }
        }
        if OperationRoles.allows(role, "listAudit") {
            let sessions = try await db.sessions(SessionFilter(dispute: String(d.id))).map(\.id)
            values["canSeeTrail"] = true
            values["trail"] = try await db.auditTrail(dispute: d.number, sessions: sessions, limit: 50).map {
                entry -> [String: Any] in
                [
                    "at": Self.format(entry.at, zone, language), "who": entry.user ?? "uid \(entry.uid)",
                    // The summary is recorded in English: a Chinese page shows what was done, in Chinese.
                    "action": Words.auditAction(entry.action, language),
                    "summary": language == .en ? entry.summary : "",
                ]
            }
        }
        return values
    }

    /// 升级: records an escalation of the dispute; a refusal shows the case file with the problem beside its field.
    func addEscalation(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, form) = try await signedForm(request)
        let detail = try await db.dispute(context.parameters.get("ref") ?? "", seenBy: session.account)
        guard OperationRoles.allows(session.account.role, "addEscalation") else {
            return roleRefused(request, session)
        }
        let language = language(request)
        let typed = [
            "kind": form["kind"] ?? "", "date": form["date"] ?? "", "case": form["case"] ?? "",
            "escalationNotes": form["notes"] ?? "",
        ]
        do {
            let zone = try Zone(try await db.office(detail.dispute.officeId).timeZone)
            let draft = try Intake.escalation(
                kind: typed["kind"] ?? "", date: typed["date"], caseRef: typed["case"], notes: typed["escalationNotes"],
                today: zone.wallClock(clock.now()).date)
            _ = try await AuditActor.$current.withValue(
                AuditActor(uid: 0, user: session.account.name, role: "console")
            ) {
                try await db.addEscalation(
                    dispute: String(detail.dispute.id), draft,
                    actor: Actor(uid: 0, user: session.account.name, isAdmin: session.account.role == .admin))
            }
            return redirect("/disputes/\(Self.percentEncoded(detail.dispute.number))#escalations")
        } catch let e as MediationError where [.invalidInput, .conflict].contains(e.kind) {
            return try await caseFile(
                request, session, detail, typed: typed, errors: Self.fieldErrors(e, language, general: "escalation"))
        }
    }

    /// 显示完整号码: the case file once with the parties' full mobiles and ID-card numbers, for the roles in
    /// `privacy.reveal_roles`; every reveal is on the audit record. A POST (with the form's token), so that a link
    /// cannot reveal and the page is never kept (`no-store`).
    func revealParties(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, _) = try await signedForm(request)
        let detail = try await db.dispute(context.parameters.get("ref") ?? "", seenBy: session.account)
        guard settings.privacy.allowsReveal(session.account.role) else { return roleRefused(request, session) }
        try await AuditActor.$current.withValue(AuditActor(uid: 0, user: session.account.name, role: "console")) {
            try await db.recordPartyReveal(detail)
        }
        return try await caseFile(request, session, detail, typed: [:], errors: [:], reveal: true)
    }
}
