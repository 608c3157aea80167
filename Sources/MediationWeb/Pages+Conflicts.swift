import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore

/// 利害关系: an expert's conflict of interest with a party of the dispute (or an organisation), recorded from the case
/// file by `AppDatabase.addConflict`, the same function the API's `addConflict` calls; the finder never proposes that
/// expert for the dispute. A refusal keeps what was typed and says beside the field what is wrong, writing nothing.
extension Pages {
    /// The case file's conflicts and, for roles that may record one, the form; with a warning for each member of a
    /// booked panel of `sessions` (the dispute's own) in conflict with it.
    func conflictValues(
        _ detail: DisputeDetail, _ language: Language, typed: [String: String], errors: [String: String],
        session: ConsoleSession, sessions: [Session]
    ) async throws -> [String: Any] {
        let labels = WebText.labels(language)
        let conflicts = try await db.conflicts(dispute: detail.dispute.number)
        let names = try await db.expertNames(conflicts.map(\.expertId))
        let parties = Dictionary(detail.parties.map { ($0.id, $0.masked().name) }, uniquingKeysWith: { a, _ in a })
        func field(_ key: String, _ label: String) -> [String: Any] {
            var values: [String: Any] = ["key": "conflict-\(key)", "label": label, "value": typed[key] ?? ""]
            if let error = errors[key] { values["error"] = error }
            return values
        }
        var values: [String: Any] = [
            "conflicts": conflicts.map { c -> [String: Any] in
                var row: [String: Any] = [
                    "expert": names[c.expertId] ?? "#\(c.expertId)",
                    "with": c.partyId.flatMap { parties[$0] } ?? c.organisation ?? "-",
                ]
                if let reason = c.reason { row["reason"] = reason }
                row["id"] = c.id
                row["canRemove"] = OperationRoles.allows(session.account.role, "removeConflict")
                row["number"] = detail.dispute.number
                return row
            },
            "canConflict": OperationRoles.allows(session.account.role, "addConflict"),
            "conflictExpert": field("expert", labels["conflictExpert"] ?? ""),
            "conflictOrganisation": field("organisation", labels["conflictOrganisation"] ?? ""),
            "conflictReason": field("reason", labels["conflictReason"] ?? ""),
            "conflictParties": detail.parties.map { p -> [String: Any] in
                [
                    "id": p.id, "name": p.masked().name + "（" + Words.side(p.side, language) + "）",
                    "chosen": String(p.id) == typed["party"],
                ]
            },
        ]
        // A conflicted member still on a booked panel: the warning `conflict add` prints, said until they are replaced.
        let conflicted = Set(conflicts.map(\.expertId))
        let zone = try Zone(try await db.office(detail.dispute.officeId).timeZone)
        let seated = sessions.filter { [.booked, .inSession].contains($0.status) }.flatMap { s in
            s.panel.filter { conflicted.contains($0.expertId) }.map { m -> [String: Any] in
                [
                    "text": WebText.message("conflictSeated", language).replacingOccurrences(
                        of: "%@", with: names[m.expertId] ?? "#\(m.expertId)"),
                    "session": s.id, "time": Self.format(s.start, zone, language),
                ]
            }
        }
        if !seated.isEmpty {
            values["hasConflictSeats"] = true
            values["conflictSeats"] = seated
        }
        if let error = errors["party"] { values["conflictPartyError"] = error }
        if let error = errors["general"] { values["conflictGeneral"] = error }
        return values
    }

    func addConflict(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, form) = try await signedForm(request)
        let detail = try await db.dispute(context.parameters.get("ref") ?? "", seenBy: session.account)
        guard OperationRoles.allows(session.account.role, "addConflict") else { return roleRefused(request, session) }
        let language = language(request)
        let typed = [
            "expert": form["expert"] ?? "", "party": form["party"] ?? "", "organisation": form["organisation"] ?? "",
            "reason": form["reason"] ?? "",
        ]
        var errors: [String: String] = [:]
        // A party of this dispute only: another number typed by hand reads as none chosen.
        let party = Int64(typed["party"] ?? "").flatMap { id in detail.parties.first { $0.id == id }?.id }
        if Text.nonEmpty(typed["expert"]) == nil { errors["expert"] = WebText.message("conflictExpert", language) }
        if (party == nil) == (Text.nonEmpty(typed["organisation"]) == nil) {
            errors["party"] = WebText.message("conflictWhom", language)
        }
        if errors.isEmpty {
            do {
                _ = try await AuditActor.$current.withValue(
                    AuditActor(uid: 0, user: session.account.name, role: "console")
                ) {
                    try await db.addConflict(
                        expert: typed["expert"] ?? "", partyId: party, organisation: typed["organisation"],
                        reason: typed["reason"])
                }
                return redirect("/disputes/\(Self.percentEncoded(detail.dispute.number))#conflicts")
            } catch let e as MediationError where e.kind == .notFound {
                errors["expert"] = language == .en ? e.message : WebText.message("noExpert", language)
            } catch let e as MediationError where e.kind == .conflict {
                errors["general"] = language == .en ? e.message : WebText.message("conflictTwice", language)
            } catch let e as MediationError where e.kind == .invalidInput {
                errors.merge(Self.fieldErrors(e, language)) { _, new in new }
            }
        }
        return try await caseFile(request, session, detail, typed: typed, errors: errors)
    }

    /// 撤销利害关系: a conflict of this dispute removed with a reason (audited), by the store's `removeConflict` as
    /// the API's removeConflict (`mediationctl conflict remove`); the finder may then propose that expert again.
    func removeConflict(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, form) = try await signedForm(request)
        let detail = try await db.dispute(context.parameters.get("ref") ?? "", seenBy: session.account)
        guard OperationRoles.allows(session.account.role, "removeConflict") else {
            return roleRefused(request, session)
        }
        // A conflict of this dispute only: an id typed by hand for another reads as not found.
        let own = try await db.conflicts(dispute: detail.dispute.number).map(\.id)
        guard let id = Int64(form["conflict"] ?? ""), own.contains(id) else {
            throw MediationError.notFound("no such conflict of interest on this dispute")
        }
        let language = language(request)
        do {
            try await AuditActor.$current.withValue(AuditActor(uid: 0, user: session.account.name, role: "console")) {
                try await db.removeConflict(id, reason: form["removeReason"] ?? "")
            }
            return redirect("/disputes/\(Self.percentEncoded(detail.dispute.number))#conflicts")
        } catch let e as MediationError where e.kind == .invalidInput {
            let said = e.fields.first.map { language == .zh ? $0.zh : $0.en } ?? e.message
            return try await caseFile(request, session, detail, typed: [:], errors: ["general": said])
        }
    }
}
