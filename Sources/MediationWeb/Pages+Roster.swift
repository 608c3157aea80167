import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore
import NIOCore

/// 花名册导入: a roster CSV checked by Core's `Roster.read` (every problem of every line, in the page's language,
/// nothing written), then previewed by the store's `importRoster` as a dry run (which lines would create, update or
/// leave an expert), and imported only when the clerk confirms: the API's importRoster, which `mediationctl expert
/// import FILE` calls. The file's bytes travel base64 in the form (read by a few lines of script), or the CSV is
/// pasted; the export is the API's masked roster.
extension Pages {
    /// A roster of a few thousand experts, base64 in a form.
    static let maxRosterFormBytes = 4 * 1024 * 1024

    func rosterPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        guard OperationRoles.allows(session.account.role, "importRoster") else { return roleRefused(request, session) }
        return render(
            "roster", request, user: session, title: WebText.labels(language(request))["rosterImport"] ?? "",
            values: ["typedText": ""])
    }

    func importRoster(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, form) = try await signedForm(request, limit: Self.maxRosterFormBytes)
        guard OperationRoles.allows(session.account.role, "importRoster") else { return roleRefused(request, session) }
        let language = language(request)
        let labels = WebText.labels(language)
        let bytes: [UInt8]
        if let data = Text.nonEmpty(form["data"]) {
            guard let decoded = Data(base64Encoded: data) else { throw PageRefusal(key: "invalidInput", typed: "") }
            bytes = Array(decoded)
        } else {
            bytes = Array((form["text"] ?? "").utf8)
        }
        var values: [String: Any] = ["typedText": form["text"] ?? ""]
        func refused(_ e: MediationError) -> Response {
            // Each problem with its line; Core's carry both languages, the store's few (clashes with stored experts)
            // are said as the store says them.
            let problems: [[String: Any]] =
                e.fields.isEmpty
                ? (e.details.isEmpty ? [e.message] : e.details).map { ["line": "", "text": $0] }
                : e.fields.map { ["line": $0.field, "text": language == .zh ? $0.zh : $0.en] }
            values["hasProblems"] = true
            values["problems"] = problems
            values["refusedText"] = WebText.message("rosterRefused", language)
                .replacingOccurrences(of: "%@", with: String(problems.count))
            return render(
                "roster", request, user: session, title: labels["rosterImport"] ?? "", values: values,
                status: .unprocessableContent)
        }
        do {
            // A staff account imports for its own offices only: another office is unknown to it, and an expert it
            // does not see (matched on mobile or email) is not its to change; an admin imports for all.
            let account = session.account
            let seen = try await db.offices(seenBy: account)
            let rows = try Roster.read(
                bytes, knownOffices: Set(seen.map(\.id)),
                officeNames: Dictionary(seen.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a }))
            if account.role != .admin {
                let stored = try await db.experts()
                var problems: [FieldProblem] = []
                for row in rows {
                    let match = stored.first {
                        (row.expert.mobile != nil && $0.mobile == row.expert.mobile)
                            || (row.expert.email != nil && $0.email == row.expert.email)
                    }
                    if row.expert.servesAllOffices || (match.map { !Self.sees(account, $0) } ?? false) {
                        let en =
                            "line \(row.line): this expert serves offices outside yours; only an admin may import it"
                        problems.append(
                            FieldProblem(
                                field: String(row.line), en: en,
                                zh: "第 \(row.line) 行：这位专家服务于您的警务室以外，只有管理员能导入或修改"))
                    }
                }
                if !problems.isEmpty { throw Roster.failure(problems) }
            }
            if form["step"] == "import" {
                let report = try await AuditActor.$current.withValue(
                    AuditActor(uid: 0, user: session.account.name, role: "console")
                ) { try await db.importRoster(rows, dryRun: false) }
                return redirect(
                    "/experts?imported=\(report.created.count)-\(report.updated.count)-\(report.unchanged.count)")
            }
            let report = try await db.importRoster(rows, dryRun: true)
            let out = Set(report.deactivated)
            let what: [Int: String] = Dictionary(
                uniqueKeysWithValues: report.created.map { ($0, labels["rosterNew"] ?? "") }
                    + report.updated.map {
                        ($0, labels[out.contains($0) ? "rosterDeactivated" : "rosterUpdated"] ?? "")
                    }
                    + report.unchanged.map { ($0, labels["rosterSame"] ?? "") })
            // Who leaves the pool while on a booked panel: said before the import, with the sessions.
            if !report.seatSessions.isEmpty {
                values["deactivationWarning"] = true
                values["seatSessions"] = report.seatSessions.map { ["session": $0] }
            }
            values["preview"] = true
            values["data"] = Data(bytes).base64EncodedString()
            values["previewText"] = WebText.message("rosterPreview", language)
                .replacingOccurrences(of: "%1", with: String(report.created.count))
                .replacingOccurrences(of: "%2", with: String(report.updated.count))
                .replacingOccurrences(of: "%3", with: String(report.unchanged.count))
            let officeNames = Dictionary(
                try await db.offices().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
            values["rows"] = rows.map { row -> [String: Any] in
                [
                    "line": row.line, "name": row.expert.name, "role": Words.expertRole(row.expert.role, language),
                    "offices": Self.officeNames(row.expert, officeNames, language),
                    "what": what[row.line] ?? "", "out": out.contains(row.line),
                ]
            }
            return render("roster", request, user: session, title: labels["rosterImport"] ?? "", values: values)
        } catch let e as MediationError where e.kind == .invalidInput || e.kind == .conflict {
            return refused(e)
        }
    }

    /// The roster as CSV, mobiles masked (the API's exportRoster without reveal), of the experts the account sees.
    func exportRoster(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        guard OperationRoles.allows(session.account.role, "exportRoster") else { return roleRefused(request, session) }
        let experts = try await db.experts().filter { Self.sees(session.account, $0) }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"roster.csv\""
        // With a BOM, so that Excel reads the Chinese as UTF-8.
        let names = Dictionary(try await db.offices().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let text =
            "\u{FEFF}" + Roster.write(experts.map { $0.masked() }, language: language(request), officeNames: names)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
