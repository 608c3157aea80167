import Foundation

/// One notice mail, ready to be rendered by `MIMEMessage.render(_:)` and sent by `SMTPClient`.
///
/// For example:
/// ```swift
/// let mail = OutgoingMail(
///     from: MailAddress("notices@mediation.example.org", name: "调解中心"),
///     to: [MailAddress("expert@example.org", name: "王律师")],
///     subject: "调解会议通知：2025-03-04 09:30",
///     text: "您好，\n\n会议定于 3 月 4 日 09:30 举行。",
///     calendar: CalendarPart(method: "REQUEST", ics: ics),
///     messageID: "<outbox-42@mediation.local>",
///     date: Date())
/// ```
public struct OutgoingMail: Sendable, Equatable {
    /// The author, written as `From:` and used as the envelope sender (`MAIL FROM`).
    public var from: MailAddress
    /// The main recipients, written as `To:`; each is also an envelope recipient.
    public var to: [MailAddress]
    /// Copied recipients, written as `Cc:`; each is also an envelope recipient.
    public var cc: [MailAddress]
    /// Any Unicode text; written as RFC 2047 encoded-words when it is not plain short ASCII.
    public var subject: String
    /// The body, sent as `text/plain; charset=utf-8`. Line breaks may be `\n` or `\r\n`; they travel as CRLF.
    public var text: String
    /// An invitation or cancellation sent alongside the text, or nil for a plain text mail.
    public var calendar: CalendarPart?
    /// The `Message-ID`, for example `<outbox-42@mediation.local>`. Keep it stable per outbox row, so that a resend
    /// after a crash is recognisable as the same message. Angle brackets are added when missing.
    public var messageID: String
    /// The `Date:` header, written in UTC.
    public var date: Date
    /// Further header fields (for example `Auto-Submitted: auto-generated`), written in name order. A field that this
    /// renderer writes itself (`From`, `To`, `Subject`, `Content-Type`, …) is ignored here, and so is a name that is
    /// not a valid field name; line breaks in values are replaced by spaces so that a value cannot add a header.
    public var extraHeaders: [String: String]

    public init(
        from: MailAddress, to: [MailAddress], cc: [MailAddress] = [], subject: String, text: String,
        calendar: CalendarPart? = nil, messageID: String, date: Date, extraHeaders: [String: String] = [:]
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.subject = subject
        self.text = text
        self.calendar = calendar
        self.messageID = messageID
        self.date = date
        self.extraHeaders = extraHeaders
    }
}

/// An iCalendar object sent with a mail: once as a `text/calendar` alternative to the text, which calendar clients
/// show as an invitation with buttons, and once as an attachment for clients that only offer to import files.
public struct CalendarPart: Sendable, Equatable {
    /// The iTIP method, matching the `METHOD` line of the calendar object: `REQUEST`, `CANCEL`, `PUBLISH`, ….
    public var method: String
    /// The iCalendar text (`BEGIN:VCALENDAR` … `END:VCALENDAR`). Line breaks travel as CRLF.
    public var ics: String
    /// The attachment's file name.
    public var filename: String

    public init(method: String, ics: String, filename: String = "invite.ics") {
        self.method = method
        self.ics = ics
        self.filename = filename
    }
}
