import Foundation
import HTTPTypes
import Hummingbird
import MediationCore
import MediationNotify
import MediationStore
import NIOCore

/// An expert's personal calendar feed (`webcal://HOST/feeds/TOKEN.ics`), for Outlook, Thunderbird or a phone's
/// calendar to subscribe to: their sessions from 30 days ago on, each with the UID, sequence and times of the
/// invitations they were mailed, so a reschedule moves the same event and a cancellation removes it. The token
/// (the store's `feedToken`, replaced by `mediationctl expert feed reset`) is the only key: an unknown one is 404.
extension Pages {
    func expertFeed(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let file = context.parameters.get("file") ?? ""
        guard file.hasSuffix(".ics"), let feed = try await db.expertFeed(token: String(file.dropLast(4))) else {
            throw HTTPError(.notFound)
        }
        let now = clock.now()
        let events = feed.sessions.map { s -> CalendarInvite in
            let office = feed.offices[s.officeId]
            let panel = s.panel.map { feed.display.names[$0.expertId] ?? "#\($0.expertId)" }.joined(separator: "、")
            let number = feed.display.numbers[s.disputeId] ?? ""
            return CalendarInvite(
                method: s.status == .cancelled ? .cancel : .request, uid: "session-\(s.id)@\(settings.calendarDomain)",
                sequence: s.sequence, stamp: now, start: s.start, end: s.end,
                timeZone: office?.timeZone ?? feed.expert.timeZone,
                summary: "调解 \(number) \(feed.display.titles[s.disputeId] ?? "")",
                description: "调解场次 #\(s.id) · \(office?.name ?? s.officeId)\n专家组：\(panel)", location: office?.name,
                organizer: MailAddress("noreply@\(settings.calendarDomain)"), attendees: [])
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/calendar; charset=utf-8"
        headers[.contentDisposition] = "inline; filename=\"mediation.ics\""
        let text = ICalendar.feed(events, name: "调解安排 · \(feed.expert.name)")
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension Pages {
    /// The expert's feed address for the expert page (made on first showing, as the API's getExpertFeed), for a
    /// role that may hand it out; nil otherwise or without a public address.
    func feedAddress(_ expert: Expert, _ account: Account) async throws -> String? {
        guard OperationRoles.allows(account.role, "getExpertFeed"), let base = settings.publicURL else { return nil }
        let (_, token) = try await db.feedToken(expert: String(expert.id), reset: false)
        return FeedAddress(base: base, token: token).webcal
    }

    /// 更换订阅地址: a new address, the old one 404 from now on; audited, as `mediationctl expert feed reset`.
    func resetFeed(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        let (session, _) = try await signedForm(request)
        guard let id = Int64(context.parameters.get("id") ?? "") else {
            throw MediationError.notFound("no such expert")
        }
        let found = try await db.expert(String(id))
        guard Self.sees(session.account, found) else { throw MediationError.notFound("no such expert") }
        guard OperationRoles.allows(session.account.role, "resetExpertFeed") else {
            return roleRefused(request, session)
        }
        _ = try await AuditActor.$current.withValue(
            AuditActor(uid: 0, user: session.account.name, role: "console")
        ) { try await db.feedToken(expert: String(id), reset: true) }
        return redirect("/experts/\(id)?feed=new#feed")
    }
}
