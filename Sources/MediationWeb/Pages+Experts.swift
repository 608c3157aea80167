import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore

/// 专家库: the experts serving the account's offices, with filters, and one expert's free time for a week drawn as a
/// grid of half hours (no inline style under the console's CSP: each cell is a class). The free time is the store's
/// `availability(expert:range:)`, the API's `getAvailability`: weekly hours and extra time, less leave and sessions.
extension Pages {
    /// Whether the account may see this expert: admins every one; others those who serve one of their offices.
    static func sees(_ account: Account, _ expert: Expert) -> Bool {
        account.role == .admin || expert.servesAllOffices
            || expert.offices.contains { OfficeScope.allows(account, office: $0) }
    }

    func experts(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        guard OperationRoles.allows(session.account.role, "listExperts") else { return roleRefused(request, session) }
        let language = language(request)
        let query = request.uri.queryParameters
        let role = query.get("role").flatMap(Text.nonEmpty).flatMap(ExpertRole.init(parsing:))
        let office = query.get("office").flatMap(Text.nonEmpty)
        let text = query.get("q").flatMap(Text.nonEmpty)?.lowercased()
        let list = try await db.experts(ExpertFilter(role: role, office: office)).filter {
            Self.sees(session.account, $0)
                && (text == nil || $0.name.lowercased().contains(text ?? "")
                    || $0.specialties.contains {
                        $0.lowercased().contains(text ?? "") || Words.specialty($0, .zh).contains(text ?? "")
                    })
        }
        let offices = try await db.offices(seenBy: session.account)
        let officeNames = Dictionary(try await db.offices().map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let (shownExperts, nav) = Self.page(list, request)
        let rows = shownExperts.map { e -> [String: Any] in
            let shown = e.masked()
            return [
                "id": e.id, "name": e.name, "role": Words.expertRole(e.role, language),
                "offices": Self.officeNames(e, officeNames, language),
                "specialties": e.specialties.map { Words.specialty($0, language) }.joined(separator: "、"),
                "mobile": shown.mobile ?? "-",
                "hours": Self.hoursText(e.weeklyHours, language),
                "active": e.active,
            ]
        }
        return render(
            "experts", request, user: session, title: WebText.labels(language)["experts"] ?? "",
            values: [
                "experts": rows, "count": list.count, "query": query.get("q") ?? "", "pager": nav,
                "roles": ExpertRole.allCases.map {
                    [
                        "code": $0.rawValue, "name": language == .zh ? $0.chinese : $0.rawValue, "chosen": $0 == role,
                    ] as [String: Any]
                },
                "offices": offices.map { ["id": $0.id, "name": $0.name, "chosen": $0.id == office] as [String: Any] },
                "canImport": OperationRoles.allows(session.account.role, "importRoster"),
            ].merging(Self.importedNote(query.get("imported"), language).map { ["imported": $0] } ?? [:]) { a, _ in a })
    }

    /// "Imported: 3 added, 1 updated, 26 unchanged" from `?imported=3-1-26`, or nil (no note).
    static func importedNote(_ text: String?, _ language: Language) -> String? {
        let counts = (text ?? "").split(separator: "-").compactMap { Int($0) }
        guard counts.count == 3 else { return nil }
        return WebText.message("rosterImported", language).replacingOccurrences(of: "%1", with: String(counts[0]))
            .replacingOccurrences(of: "%2", with: String(counts[1])).replacingOccurrences(
                of: "%3", with: String(counts[2]))
    }

    /// One expert and a week of their free time, in their own zone.
    func expert(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        guard let session = try await session(request) else { return redirect("/login") }
        if let gate = gate(session) { return gate }
        guard OperationRoles.allows(session.account.role, "getAvailability") else {
            return roleRefused(request, session)
        }
        let found = try await visibleExpert(context, session.account)
        return try await expertView(request, session, found, typed: [:], errors: [:])
    }

    /// The expert seen by the account, or not found (another office's expert reads as one that does not exist).
    private func visibleExpert(_ context: WebRequestContext, _ account: Account) async throws -> Expert {
        let notFound = MediationError.notFound("no such expert")
        guard let id = Int64(context.parameters.get("id") ?? "") else { throw notFound }
        let found: Expert
        do { found = try await db.expert(String(id)) } catch let e as MediationError where e.kind == .notFound {
            throw notFound
        }
        guard Self.sees(account, found) else { throw notFound }
        return found
    }

    /// 请假 / 加时: a span of leave or extra time, read in the expert's zone by Core's `Intake.span` and stored by the
    /// store's `addSpan`, as the API's addTimeOff and addExtraAvailability (`mediationctl expert leave add`).
    func addSpan(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, form) = try await signedForm(request)
        let found = try await visibleExpert(context, session.account)
        let kind: AppDatabase.SpanKind = form["kind"] == "extra" ? .extra : .timeOff
        guard OperationRoles.allows(session.account.role, kind == .extra ? "addExtraAvailability" : "addTimeOff")
        else { return roleRefused(request, session) }
        let language = language(request)
        let typed = [
            "from": form["from"] ?? "", "to": form["to"] ?? "", "note": form["note"] ?? "",
            "kind": kind == .extra ? "extra" : "leave",
        ]
        do {
            let interval = try Intake.span(
                from: typed["from"] ?? "", to: typed["to"] ?? "", zone: try Zone(found.timeZone), now: clock.now(),
                what: kind.what)
            let span = try await AuditActor.$current.withValue(
                AuditActor(uid: 0, user: session.account.name, role: "console")
            ) { try await db.addSpan(kind, expert: String(found.id), interval: interval, note: typed["note"]) }
            let week = ISOWeek(containing: try Zone(found.timeZone).wallClock(interval.start).date)
            let covered = span.covered.map(String.init).joined(separator: ",")
            return redirect("/experts/\(found.id)?week=\(week)&covered=\(covered)#spans")
        } catch let e as MediationError where e.kind == .invalidInput {
            return try await expertView(
                request, session, found, typed: typed, errors: Self.fieldErrors(e, language, general: "from"))
        }
    }

    /// Removes a span of leave or extra time, as `mediationctl expert leave remove` does; one that is not there
    /// (removed meanwhile) is said on the expert's page, 404, nothing removed.
    func removeSpan(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, form) = try await signedForm(request)
        let found = try await visibleExpert(context, session.account)
        let kind: AppDatabase.SpanKind = form["kind"] == "extra" ? .extra : .timeOff
        guard OperationRoles.allows(session.account.role, kind == .extra ? "removeExtraAvailability" : "removeTimeOff")
        else { return roleRefused(request, session) }
        do {
            guard let span = Int64(form["span"] ?? "") else { throw MediationError.notFound("no such span") }
            try await AuditActor.$current.withValue(AuditActor(uid: 0, user: session.account.name, role: "console")) {
                try await db.removeSpan(kind, expert: String(found.id), id: span)
            }
        } catch let e as MediationError where e.kind == .notFound {
            // The store's words name a CLI command to list them; the page lists them itself.
            let language = language(request)
            let what = WebText.labels(language)[kind == .extra ? "extraWord" : "leaveWord"] ?? ""
            let said = WebText.message("spanGone", language).replacingOccurrences(
                of: "%@", with: language == .zh ? what : what.lowercased())
            return try await expertView(request, session, found, typed: [:], errors: ["span": said], status: .notFound)
        }
        let week = request.uri.queryParameters.get("week").flatMap(ISOWeek.init(parsing:))
        return redirect("/experts/\(found.id)" + (week.map { "?week=\($0)" } ?? "") + "#spans")
    }

    private func expertView(
        _ request: Request, _ session: ConsoleSession, _ found: Expert, typed: [String: String],
        errors: [String: String], status: HTTPResponse.Status? = nil
    ) async throws -> Response {
        let language = language(request)
        let id = found.id
        let zone = try Zone(found.timeZone)
        let week: ISOWeek
        if let typed = request.uri.queryParameters.get("week").flatMap(Text.nonEmpty) {
            guard let parsed = ISOWeek(parsing: typed) else { throw PageRefusal(key: "badWeek", typed: typed) }
            week = parsed
        } else {
            week = ISOWeek(containing: zone.wallClock(clock.now()).date)
        }
        let days = (0..<7).map { week.monday.adding(days: $0) }
        let range = try DayRange(from: days[0], to: days[6]).interval(in: zone)
        let (_, free) = try await db.availability(expert: String(id), range: range)
        // Half hours from 07:00 to 22:00, a row each; a cell is free when the whole half hour is.
        func isFree(_ day: LocalDate, _ minute: Int) -> Bool {
            guard let start = TimeOfDay(minutes: minute), let end = TimeOfDay(minutes: minute + 30) else {
                return false
            }
            let slot = Interval(start: zone.instant(day, start), end: zone.instant(day, end))
            return free.contains { $0.start <= slot.start && slot.end <= $0.end }
        }
        var rows: [[String: Any]] = []
        for minute in stride(from: 7 * 60, to: 22 * 60, by: 30) {
            let label = minute % 60 == 0 ? String(format: "%02d:00", minute / 60) : ""
            let cells: [[String: Any]] = days.map { ["free": isFree($0, minute)] }
            rows.append(["label": label, "cells": cells])
        }
        let canChange = OperationRoles.allows(session.account.role, "addTimeOff")
        func spanRows(_ kind: AppDatabase.SpanKind) async throws -> [[String: Any]] {
            try await db.spans(kind, expert: String(id), overlapping: range).map {
                [
                    "text": Words.span($0.interval.start, $0.interval.end, zone, language)
                        + ($0.note.map { " · \($0)" } ?? ""),
                    "span": $0.id, "kind": kind == .extra ? "extra" : "leave", "canRemove": canChange,
                    "expertId": id, "week": week.description,
                ]
            }
        }
        let leave = try await spanRows(.timeOff)
        let extra = try await spanRows(.extra)
        var formValues: [String: Any] = [
            "canChange": canChange, "typedFrom": typed["from"] ?? "", "typedTo": typed["to"] ?? "",
            "typedNote": typed["note"] ?? "", "extraChosen": typed["kind"] == "extra",
        ]
        for (key, error) in errors { formValues["spanError_\(key)"] = error }
        // The sessions the leave just added covers, each linked to its page, where the member is replaced.
        let covered = (request.uri.queryParameters.get("covered") ?? "").split(separator: ",").compactMap {
            Int64($0)
        }
        if !covered.isEmpty {
            formValues["covered"] = WebText.message("leaveCovers", language)
                .replacingOccurrences(of: "%@", with: String(covered.count))
            formValues["coveredSessions"] = covered.prefix(50).map { ["session": $0] }
        }
        // Only when there is one: an empty string would still open the template's section.
        if let feed = try await feedAddress(found, session.account) { formValues["feed"] = feed }
        let shown = found.masked()
        let query = { (w: ISOWeek) in "/experts/\(id)?week=\(w)" }
        return render(
            "expert", request, user: session, title: found.name,
            values: [
                "name": found.name, "role": Words.expertRole(found.role, language),
                "mobile": shown.mobile ?? "-", "email": found.email ?? "-", "zone": found.timeZone,
                "hours": Self.hoursText(found.weeklyHours, language),
                "specialties": found.specialties.map { Words.specialty($0, language) }.joined(separator: "、"),
                "week": week.description,
                "days": days.map { Self.format(day: $0, language) }, "rows": rows, "leave": leave, "extra": extra,
                "previous": query(week.adding(weeks: -1)), "next": query(week.adding(weeks: 1)),
                "inactive": !found.active, "expertId": id,
                "feedRenewed": request.uri.queryParameters.get("feed") == "new",
            ].merging(formValues) { a, _ in a }, status: status ?? (errors.isEmpty ? .ok : .unprocessableContent))
    }

    /// Weekly hours as the page's language says them (Core's `Words.hours`), `-` when there are none.
    static func hoursText(_ windows: [WeeklyWindow], _ language: Language) -> String {
        windows.isEmpty ? "-" : Words.hours(windows, language)
    }

    /// An expert's offices by their names (`金山警务室、新华警务室`), or every office.
    static func officeNames(_ e: Expert, _ names: [String: String], _ language: Language) -> String {
        e.servesAllOffices
            ? (WebText.labels(language)["allOffices"] ?? "")
            : e.offices.map { names[$0] ?? $0 }.joined(separator: "、")
    }
}
