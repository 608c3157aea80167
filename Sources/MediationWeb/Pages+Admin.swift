import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore

/// 管理: the offices and the panel policies as an admin reads them (the accounts are `users`). They are changed with
/// `mediationctl office …` and `mediationctl policy …`, which the pages name.
extension Pages {
    func offices(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        guard session.account.role == .admin else { return roleRefused(request, session) }
        let language = language(request)
        let rows = try await db.offices().map { o -> [String: Any] in
            [
                "id": o.id, "name": o.name, "zone": o.timeZone, "hours": Self.hoursText(o.workingHours, language),
                "minutes": o.defaultSessionMinutes, "prefix": o.numberPrefix, "phone": o.phone ?? "-",
            ]
        }
        return render(
            "offices", request, user: session, title: WebText.labels(language)["officesAdmin"] ?? "",
            values: ["offices": rows])
    }

    func policies(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        guard session.account.role == .admin else { return roleRefused(request, session) }
        let language = language(request)
        let rows = try await db.policies().map { p -> [String: Any] in
            [
                "name": Words.policyName(p.name, language),
                "description": Words.policyDescription(p, language) ?? "",
                "seats": p.requirements.map { r -> String in
                    let role = Words.expertRole(r.role, language)
                    let extra = [r.specialty.map { Words.category($0, language) }, r.language].compactMap { $0 }
                    return (r.count > 1 ? "\(r.count) × " : "") + role
                        + (extra.isEmpty ? "" : "（" + extra.joined(separator: "，") + "）")
                }.joined(separator: "、"),
            ]
        }
        return render(
            "policies", request, user: session, title: WebText.labels(language)["policiesAdmin"] ?? "",
            values: ["policies": rows])
    }
}
