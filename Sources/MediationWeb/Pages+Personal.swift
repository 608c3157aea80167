import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationStore

/// 个人页面: the page a notice's personal link opens (`/p/TOKEN`, signed and expiring: the store's `PersonalLink`),
/// without sign-in. It shows that person's session in their own zone, the video room's link from 15 minutes before
/// the start, and lets an expert answer the invitation through the store's `rsvp`, as staff record it (a decline
/// offers staff the ranked substitutes). A forged, altered or expired link, or one whose person is no longer on the
/// session, is 404.
extension Pages {
    /// How long before the start the room's link shows.
    static let roomOpensMinutes = 15

    private func personalLink(_ context: WebRequestContext) async throws -> (String, PersonalView) {
        let token = context.parameters.get("token") ?? ""
        guard let link = PersonalLink.verify(token, key: try await db.personalLinkKey(), now: clock.now()),
            let view = try await db.personalView(link)
        else { throw HTTPError(.notFound) }
        return (token, view)
    }

    func personalPage(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (token, view) = try await personalLink(context)
        let language = language(request)
        let labels = WebText.labels(language)
        let s = view.session
        let zone = try Zone(view.timeZone)
        let now = clock.now()
        var values: [String: Any] = [
            "token": token, "greeting": language == .zh ? "您好，\(view.name)" : "Hello, \(view.name)",
            "disputeNumber": view.disputeNumber, "disputeTitle": view.disputeTitle,
            "time": Words.moment(s.start, zone, language) + "–" + Self.clockTime(s.end, zone)
                + (zone.identifier == "Asia/Shanghai" ? "" : " (\(zone.identifier))"),
            "status": Words.sessionStatus(s.status, language), "officeName": view.office.name,
            "panel": view.panelNames.joined(separator: language == .zh ? "、" : ", "),
        ]
        if let phone = view.office.phone { values["officePhone"] = phone }
        if let seat = view.seat {
            values["answer"] = Words.invitation(seat.invitation, language)
            values["canAnswer"] = s.status == .booked
        }
        if let answered = request.uri.queryParameters.get("answered") {
            values["answered"] = labels[answered == "declined" ? "answeredDeclined" : "answeredAccepted"] ?? ""
        }
        // The room: from 15 minutes before the start to the end, while the session is on.
        let opens = s.start.addingTimeInterval(-TimeInterval(Self.roomOpensMinutes * 60))
        if [.booked, .inSession].contains(s.status), let room = s.room, now < s.end {
            if now >= opens {
                let who = (view.seat != nil ? "expert-" : "party-") + "\(view.link.person)"
                if let link = try settings.rooms.link(
                    room: room, participantID: who, name: view.name, email: view.email,
                    moderator: view.seat?.lead ?? false, start: s.start, end: s.end)
                {
                    values["room"] = link
                }
            } else {
                values["roomFrom"] = Words.moment(opens, zone, language)
            }
        }
        var response = render("personal", request, user: nil, title: view.disputeNumber, values: values)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// An expert's answer from their page: the store's `rsvp`, audited under the expert's name.
    func personalRSVP(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (token, view) = try await personalLink(context)
        let form = try await Self.form(request)
        guard view.seat != nil, let answer = Invitation(rawValue: form["answer"] ?? ""), answer != .pending else {
            throw PageRefusal(key: "badStatus", typed: form["answer"] ?? "")
        }
        settings.notices.changeStarted()
        defer { settings.notices.changeEnded() }
        do {
            _ = try await AuditActor.$current.withValue(
                AuditActor(uid: 0, user: "\(view.name) (expert #\(view.link.person), personal link)", role: "personal")
            ) {
                try await db.rsvp(
                    session: view.session.id, expert: String(view.link.person), answer, rules: settings.rules)
            }
        } catch let e as MediationError where e.kind == .conflict {
            // No longer booked: the page says where the session stands.
            return redirect("/p/\(token)")
        }
        return redirect("/p/\(token)?answered=\(answer.rawValue)")
    }
}
