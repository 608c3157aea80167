import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore
import NIOCore

/// 调解结果统计 on 研判: the outcomes of one of the account's offices over a range of days, grouped by category,
/// expert or not at all: the store's `outcomesReport` and Core's document, in the page's language, which the API's
/// outcomesReport and `mediationctl report outcomes` give; printable (A4) and as CSV.
extension Pages {
    private struct OutcomeChoice {
        var week: WeekChoice
        var range: DayRange
        var by: OutcomeGrouping?
    }

    /// The office (as the review chooses it), the range (default: the first of this month to today) and grouping.
    private func outcomeChoice(_ request: Request, account: Account) async throws -> (
        WeekChoice, Result<DayRange, MediationError>, OutcomeGrouping?, from: String, to: String
    ) {
        let choice = try await weekChoice(request, account: account)
        let query = request.uri.queryParameters
        let today = choice.zone.wallClock(clock.now()).date
        let from =
            query.get("from").flatMap(Text.nonEmpty) ?? LocalDate(year: today.year, month: today.month, day: 1)?
            .description ?? today.description
        let to = query.get("to").flatMap(Text.nonEmpty) ?? today.description
        let by = query.get("by").flatMap { OutcomeGrouping(rawValue: $0) }
        let range: Result<DayRange, MediationError>
        do { range = .success(try DayRange(from: from, to: to, today: today)) } catch let e as MediationError {
            range = .failure(e)
        }
        return (choice, range, by, from, to)
    }

    func outcomeReview(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        guard OperationRoles.allows(session.account.role, "outcomesReport") else {
            return roleRefused(request, session)
        }
        let language = language(request)
        let labels = WebText.labels(language)
        let (choice, range, by, from, to) = try await outcomeChoice(request, account: session.account)
        var values: [String: Any] = [
            "offices": choice.offices.map { ["id": $0.id, "name": $0.name, "chosen": $0.id == choice.office.id] },
            "manyOffices": choice.offices.count > 1, "officeId": choice.office.id, "from": from, "to": to,
            "groupings": [
                ("", labels["groupNone"] ?? ""), ("category", labels["category"] ?? ""),
                ("expert", labels["panel"] ?? ""),
            ].map { code, name in
                ["code": code, "name": name, "chosen": code == (by?.rawValue ?? "")] as [String: Any]
            },
        ]
        switch range {
        case .failure(let e):
            values["rangeError"] =
                language == .en
                ? e.message : e.fields.isEmpty ? WebText.message("badRange", language) : e.message(in: .zh)
            return render(
                "outcomes", request, user: session, title: labels["outcomesReport"] ?? "", values: values,
                status: .unprocessableContent)
        case .success(let range):
            let report = try await db.outcomesReport(range: range, by: by, office: choice.office.id)
            let document = report.document(
                language: language, officeNames: Dictionary(choice.offices.map { ($0.id, $0.name) }) { a, _ in a })
            values["title"] = document.title + " · " + choice.office.name
            values["subtitle"] = document.subtitle
            values["tables"] = document.tables.map { t -> [String: Any] in
                [
                    "title": t.title, "header": t.header, "empty": t.rows.isEmpty,
                    "rows": t.rows.map { row in
                        ["cells": row.enumerated().map { ["text": $0.element, "first": $0.offset == 0] }]
                    },
                ]
            }
            values["csv"] =
                "/review/outcomes.csv?office=\(choice.office.id)&from=\(range.from)&to=\(range.to)"
                + (by.map { "&by=\($0.rawValue)" } ?? "")
            return render("outcomes", request, user: session, title: document.title, values: values)
        }
    }

    /// The same report as a spreadsheet (UTF-8 with a BOM), both languages as the API's CSV.
    func outcomeReviewCSV(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        guard OperationRoles.allows(session.account.role, "outcomesReport") else {
            return roleRefused(request, session)
        }
        let (choice, range, by, _, _) = try await outcomeChoice(request, account: session.account)
        let days = try range.get()
        let report = try await db.outcomesReport(range: days, by: by, office: choice.office.id)
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] =
            "attachment; filename=\"outcomes-\(choice.office.id)-\(days.from)-\(days.to).csv\""
        return Response(
            status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: report.document().csv())))
    }
}
