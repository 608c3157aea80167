import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore
import NIOCore

/// 日程 (the office's week as a grid) and 研判 (the weekly review on screen, printable, and as CSV). Both read the
/// week and the office the same way, and the review's figures are Core's `WeeklyReport` itself, the one the API's
/// `weeklyReport` answers.
extension Pages {
    /// The office and the ISO week a page is about: the office asked for if the account sees it (404 otherwise, as
    /// if it did not exist), else the account's first; the week asked for, else this week in the office's zone.
    struct WeekChoice {
        var office: Office
        var offices: [Office]
        var zone: Zone
        var week: ISOWeek
    }

    func weekChoice(_ request: Request, account: Account) async throws -> WeekChoice {
        let offices = try await db.offices(seenBy: account)
        let asked = request.uri.queryParameters.get("office").flatMap(Text.nonEmpty)
        let office: Office
        if let asked {
            guard let found = offices.first(where: { $0.id == asked }) else {
                throw MediationError.notFound("no office '\(asked)' for this account")
            }
            office = found
        } else {
            guard let first = offices.first else { throw MediationError.notFound("this account has no office") }
            office = first
        }
        let zone = try Zone(office.timeZone)
        let week: ISOWeek
        if let typed = request.uri.queryParameters.get("week").flatMap(Text.nonEmpty) {
            guard let parsed = ISOWeek(parsing: typed) else { throw PageRefusal(key: "badWeek", typed: typed) }
            week = parsed
        } else {
            week = ISOWeek(containing: zone.wallClock(clock.now()).date)
        }
        return WeekChoice(office: office, offices: offices, zone: zone, week: week)
    }

    /// The office chooser's entries, the chosen one marked.
    private func officeChoices(_ choice: WeekChoice) -> [[String: Any]] {
        choice.offices.map { ["id": $0.id, "name": $0.name, "chosen": $0.id == choice.office.id] }
    }

    // MARK: 日程

    func week(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        let language = language(request)
        let labels = WebText.labels(language)
        let choice = try await weekChoice(request, account: session.account)
        let days = (0..<7).map { choice.week.monday.adding(days: $0) }
        let range = try DayRange(from: days[0], to: days[6]).interval(in: choice.zone)
        let sessions = try await db.sessions(SessionFilter(office: choice.office.id, range: range))
        // Titles and panel names for these sessions only (an office may have hundreds a week, the pool thousands).
        let display = try await db.display(sessions)
        let today = choice.zone.wallClock(clock.now()).date
        // Each session's wall clock read once for its start and once for its end (a zone's offset is the costly
        // part of this page).
        let walls = sessions.map { s in
            (session: s, start: choice.zone.wallClock(s.start), end: choice.zone.wallClock(s.end).minutes)
        }
        let byDay = Dictionary(grouping: walls) { $0.start.date }
        let columns = days.map { day -> [String: Any] in
            let onDay = (byDay[day] ?? []).sorted { $0.session.start < $1.session.start }
            return [
                "day": Self.format(day: day, language), "today": day == today,
                "sessions": onDay.map { w -> [String: Any] in
                    let s = w.session
                    return [
                        "id": s.id, "time": Self.hhmm(w.start.minutes) + "–" + Self.hhmm(w.end),
                        "title": display.titles[s.disputeId] ?? display.numbers[s.disputeId] ?? "",
                        "panel": s.panel.map { display.names[$0.expertId] ?? "#\($0.expertId)" }.joined(
                            separator: "、"),
                        "status": Words.sessionStatus(s.status, language), "statusCode": s.status.rawValue,
                    ]
                },
            ]
        }
        let query = { (week: ISOWeek) in "/week?office=\(choice.office.id)&week=\(week)" }
        return render(
            "week", request, user: session, title: labels["week"] ?? "",
            values: [
                "officeName": choice.office.name, "officeId": choice.office.id, "week": choice.week.description,
                "range": Self.format(day: days[0], language) + " — " + Self.format(day: days[6], language),
                "columns": columns, "offices": officeChoices(choice), "manyOffices": choice.offices.count > 1,
                "previous": query(choice.week.adding(weeks: -1)), "next": query(choice.week.adding(weeks: 1)),
                "review": "/review?office=\(choice.office.id)&week=\(choice.week)",
                "count": sessions.filter { $0.status != .cancelled }.count,
            ])
    }

    // MARK: 研判

    /// The weekly review of one office, from the same store function as the API, in the page's language.
    func review(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        let language = language(request)
        let choice = try await weekChoice(request, account: session.account)
        let report = try await db.weeklyReport(week: choice.week, office: choice.office.id)
        let document = report.document(zone: choice.zone, language: language, officeName: choice.office.name)
        let tables = document.tables.map { t -> [String: Any] in
            [
                "title": t.title, "header": t.header, "empty": t.rows.isEmpty,
                "rows": t.rows.map { row in
                    ["cells": row.enumerated().map { ["text": $0.element, "first": $0.offset == 0] }]
                },
            ]
        }
        let query = { (week: ISOWeek) in "/review?office=\(choice.office.id)&week=\(week)" }
        return render(
            "review", request, user: session, title: document.title,
            values: [
                "title": document.title, "subtitle": document.subtitle, "headline": document.headline ?? "",
                "tables": tables, "offices": officeChoices(choice), "manyOffices": choice.offices.count > 1,
                "officeId": choice.office.id, "week": choice.week.description,
                "previous": query(choice.week.adding(weeks: -1)), "next": query(choice.week.adding(weeks: 1)),
                "csv": "/review.csv?office=\(choice.office.id)&week=\(choice.week)",
            ])
    }

    /// The same review as a spreadsheet: Core's CSV (UTF-8 with a BOM, for Excel), both languages as the API's.
    func reviewCSV(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        let choice = try await weekChoice(request, account: session.account)
        let report = try await db.weeklyReport(week: choice.week, office: choice.office.id)
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"review-\(choice.office.id)-\(choice.week).csv\""
        return Response(
            status: .ok, headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: report.document(zone: choice.zone).csv())))
    }

    /// `09:30` in `zone`.
    static func clockTime(_ instant: Date, _ zone: Zone) -> String { hhmm(zone.wallClock(instant).minutes) }

    /// Minutes of the day as `09:30`.
    static func hhmm(_ minutes: Int) -> String {
        let h = minutes / 60
        let m = minutes % 60
        return (h < 10 ? "0\(h)" : "\(h)") + ":" + (m < 10 ? "0\(m)" : "\(m)")
    }
}

/// Input a page cannot use, said in the page's language from `WebText.message(key)` (`%@` is what was typed).
struct PageRefusal: Error {
    var key: String
    var typed: String
}

extension Pages {
    /// Rows a list page shows at once: the pool may hold thousands of experts, an office hundreds of disputes.
    static let pageSize = 100

    /// One page of `items` (`?page=N`, from 1) and the links to its neighbours, keeping the rest of the query.
    static func page<T>(_ items: [T], _ request: Request) -> (items: [T], nav: [String: Any]) {
        let pages = max(1, (items.count + pageSize - 1) / pageSize)
        let asked = request.uri.queryParameters.get("page").flatMap { Int($0) } ?? 1
        let number = min(max(asked, 1), pages)
        let slice = Array(items.dropFirst((number - 1) * pageSize).prefix(pageSize))
        func link(_ n: Int) -> String {
            var query = request.uri.queryParameters.filter { $0.key != "page" }.map {
                "\(percentEncoded(String($0.key)))=\(percentEncoded(String($0.value)))"
            }
            query.append("page=\(n)")
            return request.uri.path + "?" + query.joined(separator: "&")
        }
        var nav: [String: Any] = ["page": number, "pages": pages, "many": pages > 1, "total": items.count]
        if number > 1 { nav["previous"] = link(number - 1) }
        if number < pages { nav["next"] = link(number + 1) }
        return (slice, nav)
    }
}
