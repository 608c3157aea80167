import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore

/// 回访: the follow-up visits of the account's offices still to be made, overdue first, each with a form for what the
/// visit found (stable, relapsed, or escalated with its kind). The form is read by Core's `Intake.followUp` and
/// stored by `AppDatabase.recordFollowUp`, as the API's `recordFollowUp` and `mediationctl followup record` are.
extension Pages {
    func followUps(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        return try await followUpList(request, session, typed: [:], errors: [:], row: nil)
    }

    func recordFollowUp(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, form) = try await signedForm(request)
        guard OperationRoles.allows(session.account.role, "recordFollowUp") else {
            return roleRefused(request, session)
        }
        let notFound = MediationError.notFound("no such follow-up visit")
        guard let id = Int64(context.parameters.get("id") ?? "") else { throw notFound }
        let visible = try await db.followUps(scope: .open).filter {
            OfficeScope.allows(session.account, office: $0.officeId)
        }
        guard let visit = visible.first(where: { $0.id == id }) else { throw notFound }
        let language = language(request)
        let zone = try Zone(try await db.office(visit.officeId).timeZone)
        do {
            let (result, escalation) = try Intake.followUp(
                result: form["result"] ?? "", kind: form["kind"], date: nil, caseRef: Text.nonEmpty(form["case"]),
                notes: Text.nonEmpty(form["notes"]), today: zone.wallClock(clock.now()).date)
            _ = try await AuditActor.$current.withValue(
                AuditActor(uid: 0, user: session.account.name, role: "console")
            ) {
                try await db.recordFollowUp(
                    id, result: result, notes: Text.nonEmpty(form["notes"]), escalation: escalation,
                    actor: Actor(uid: 0, user: session.account.name, isAdmin: session.account.role == .admin))
            }
            return redirect("/followups?done=\(id)")
        } catch let e as MediationError where e.kind == .invalidInput || e.kind == .conflict {
            // A problem of a field the row has no input for (none yet) is said beside the result.
            return try await followUpList(
                request, session, typed: form,
                errors: Self.fieldErrors(e, language, general: "result", onPage: Self.followUpFields), row: id)
        }
    }

    /// The fields of a visit's form a refusal is shown beside: its result, an escalation's kind and case reference.
    static let followUpFields: Set<String> = ["result", "kind", "case"]

    private func followUpList(
        _ request: Request, _ session: ConsoleSession, typed: [String: String], errors: [String: String], row: Int64?
    ) async throws -> Response {
        let language = language(request)
        let visits = try await db.followUps(scope: .open).filter {
            OfficeScope.allows(session.account, office: $0.officeId)
        }.sorted { $0.dueOn < $1.dueOn }
        var numbers: [Int64: (String, String)] = [:]
        var todays: [String: LocalDate] = [:]
        for office in try await db.offices(seenBy: session.account) {
            todays[office.id] = try Zone(office.timeZone).wallClock(clock.now()).date
            for d in try await db.disputes(DisputeFilter(office: office.id)) { numbers[d.id] = (d.number, d.title) }
        }
        let canRecord = OperationRoles.allows(session.account.role, "recordFollowUp")
        let rows = visits.map { f -> [String: Any] in
            let mine = f.id == row
            var values: [String: Any] = [
                "id": f.id, "due": Self.format(day: f.dueOn, language), "number": numbers[f.disputeId]?.0 ?? "",
                "title": numbers[f.disputeId]?.1 ?? "", "overdue": todays[f.officeId].map { f.dueOn < $0 } ?? false,
                "canRecord": canRecord, "notes": mine ? typed["notes"] ?? "" : "",
                "caseRef": mine ? typed["case"] ?? "" : "",
                "results": FollowUpResult.allCases.map {
                    [
                        "code": $0.rawValue, "name": Words.followUpResult($0, language),
                        "chosen": mine && $0.rawValue == typed["result"],
                    ] as [String: Any]
                },
                "kinds": EscalationKind.allCases.map {
                    [
                        "code": $0.rawValue, "name": language == .zh ? $0.chinese : $0.rawValue,
                        "chosen": mine && $0.rawValue == typed["kind"],
                    ] as [String: Any]
                },
            ]
            if mine { for (key, error) in errors { values["error_\(key)"] = error } }
            return values
        }
        return render(
            "followups", request, user: session, title: WebText.labels(language)["followUpsDue"] ?? "",
            values: ["visits": rows, "done": request.uri.queryParameters.get("done") != nil],
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }
}
