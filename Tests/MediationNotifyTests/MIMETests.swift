import Foundation
import Testing

@testable import MediationNotify

/// Pure rendering checks of `MIMEMessage`; `SMTPTests` checks the same messages with Python's `email` parser.
@Suite struct MIMETests {
    /// 2025-03-04 01:30:00 UTC, a Tuesday.
    static let date = Date(timeIntervalSince1970: 1_741_051_800)
    static let subject = "调解会议通知：第 2025-017 号纠纷（2025 年 3 月 4 日 09:30）— 请准时参加，并提前十分钟进入会议室"
    static let text = "王律师，您好：\n\n第 2025-017 号纠纷的调解会议定于 3 月 4 日 09:30 举行。\n.以点开头的一行\r\nLast line"
    static let ics = """
        BEGIN:VCALENDAR
        VERSION:2.0
        PRODID:-//Mediation Coordinator//Tests//EN
        METHOD:REQUEST
        BEGIN:VEVENT
        UID:session-17@mediation.test
        DTSTAMP:20250301T000000Z
        DTSTART:20250304T013000Z
        DTEND:20250304T030000Z
        SUMMARY:调解会议
        END:VEVENT
        END:VCALENDAR

        """

    static func mail(calendar: CalendarPart? = nil, subject: String = subject) -> OutgoingMail {
        OutgoingMail(
            from: MailAddress("notices@mediation.test", name: "调解中心"),
            to: [MailAddress("wang@example.org", name: "王律师"), MailAddress("li@example.org", name: "Li, Hua (party)")],
            cc: [MailAddress("clerk@example.org")],
            subject: subject, text: text, calendar: calendar, messageID: "<outbox-42@mediation.local>", date: date)
    }

    static let invitation = mail(calendar: CalendarPart(method: "REQUEST", ics: ics))

    // MARK: Lines and headers

    @Test func everyLineEndsInCRLFAndNoLineIsTooLong() {
        for mail in [Self.mail(), Self.invitation] {
            let raw = MIMEMessage.render(mail)
            #expect(raw.hasSuffix("\r\n"))
            let bytes = Array(raw.utf8)
            for (index, byte) in bytes.enumerated() {
                if byte == 10 { #expect(index > 0 && bytes[index - 1] == 13, "bare LF at \(index)") }
                if byte == 13 { #expect(index + 1 < bytes.count && bytes[index + 1] == 10, "bare CR at \(index)") }
            }
            for line in raw.components(separatedBy: "\r\n") {
                #expect(line.utf8.count <= 78, "line longer than 78: \(line)")
                #expect(line.allSatisfy { $0.isASCII }, "non-ASCII line: \(line)")
            }
        }
    }

    @Test func headersCarryDateMessageIDAndMIMEVersion() throws {
        let headers = try Self.headers(of: MIMEMessage.render(Self.mail()))
        #expect(headers["date"] == "Tue, 04 Mar 2025 01:30:00 +0000")
        #expect(headers["message-id"] == "<outbox-42@mediation.local>")
        #expect(headers["mime-version"] == "1.0")
        #expect(headers["content-type"] == "text/plain; charset=utf-8")
        #expect(headers["content-transfer-encoding"] == "base64")
        // Brackets are added when the caller left them out.
        var bare = Self.mail()
        bare.messageID = "outbox-43@mediation.local"
        #expect(try Self.headers(of: MIMEMessage.render(bare))["message-id"] == "<outbox-43@mediation.local>")
        // One-digit days and hours are padded.
        var early = Self.mail()
        early.date = Date(timeIntervalSince1970: 1_735_693_384)  // 2025-01-01 01:03:04 UTC, a Wednesday
        #expect(try Self.headers(of: MIMEMessage.render(early))["date"] == "Wed, 01 Jan 2025 01:03:04 +0000")
    }

    @Test func chineseSubjectIsEncodedWordsThatDecodeBack() throws {
        let raw = MIMEMessage.render(Self.mail())
        let subjectLines = Self.fieldLines(of: raw, named: "Subject")
        #expect(subjectLines.count > 1, "a long subject is folded over several lines")
        for line in subjectLines {
            #expect(line.utf8.count <= 76, "an encoded-word line is longer than 76: \(line)")
        }
        let value = try #require(try Self.headers(of: raw)["subject"])
        let words = value.split(separator: " ").map(String.init)
        for word in words {
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="), "not an encoded-word: \(word)")
            #expect(word.count <= 75)
        }
        #expect(try Self.decodeEncodedWords(value) == Self.subject)
    }

    @Test func plainASCIISubjectStaysReadableAndFoldsAtSpaces() throws {
        let short = try Self.headers(of: MIMEMessage.render(Self.mail(subject: "Mediation session on 4 March")))
        #expect(short["subject"] == "Mediation session on 4 March")
        let long = String(repeating: "Mediation session reminder, ", count: 8) + "end"
        let raw = MIMEMessage.render(Self.mail(subject: long))
        #expect(Self.fieldLines(of: raw, named: "Subject").count > 1)
        #expect(try Self.headers(of: raw)["subject"] == long)
        // Something that looks like an encoded-word must not be read as one.
        let tricky = try Self.headers(of: MIMEMessage.render(Self.mail(subject: "=?UTF-8?B?5LiA?=")))
        #expect(try Self.decodeEncodedWords(tricky["subject"] ?? "") == "=?UTF-8?B?5LiA?=")
    }

    @Test func addressesAreEncodedOrQuotedAsNeeded() throws {
        let headers = try Self.headers(of: MIMEMessage.render(Self.mail()))
        let from = try #require(headers["from"])
        #expect(from.hasSuffix(" <notices@mediation.test>"))
        #expect(try Self.decodeEncodedWords(String(from.dropLast(" <notices@mediation.test>".count))) == "调解中心")
        let to = try #require(headers["to"])
        #expect(to.contains("\"Li, Hua (party)\" <li@example.org>"), "a name with specials is quoted: \(to)")
        #expect(headers["cc"] == "clerk@example.org")
    }

    @Test func extraHeadersCannotInjectOrOverride() throws {
        var mail = Self.mail()
        mail.extraHeaders = [
            "Auto-Submitted": "auto-generated",
            "X-Note": "first\r\nBcc: attacker@example.org",
            "Subject": "overridden",
            "Bad Name": "ignored",
        ]
        let raw = MIMEMessage.render(mail)
        let headers = try Self.headers(of: raw)
        #expect(headers["auto-submitted"] == "auto-generated")
        #expect(headers["x-note"] == "first Bcc: attacker@example.org")
        #expect(headers["bcc"] == nil)
        #expect(try Self.decodeEncodedWords(headers["subject"] ?? "") == Self.subject)
        #expect(!raw.contains("Bad Name"))
    }

    // MARK: Bodies

    @Test func textBodyIsBase64OfTheUTF8TextWithCRLF() throws {
        let raw = MIMEMessage.render(Self.mail())
        let body = try #require(raw.components(separatedBy: "\r\n\r\n").dropFirst().first)
        let lines = body.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.dropLast().allSatisfy { $0.count == 76 }, "base64 lines are 76 characters")
        let decoded = try #require(Data(base64Encoded: lines.joined()))
        #expect(String(decoding: decoded, as: UTF8.self) == Self.canonical(Self.text))
    }

    @Test func invitationIsMixedWithAlternativeTextAndCalendarAndAnAttachment() throws {
        let raw = MIMEMessage.render(Self.invitation)
        let headers = try Self.headers(of: raw)
        let mixedBoundary = try #require(Self.boundary(in: headers["content-type"] ?? ""))
        #expect(headers["content-type"]?.hasPrefix("multipart/mixed;") == true)

        let mixedParts = try Self.parts(of: raw, boundary: mixedBoundary)
        try #require(mixedParts.count == 2)
        let alternativeHeaders = try Self.headers(of: mixedParts[0])
        #expect(alternativeHeaders["content-type"]?.hasPrefix("multipart/alternative;") == true)
        let alternativeBoundary = try #require(Self.boundary(in: alternativeHeaders["content-type"] ?? ""))
        #expect(alternativeBoundary != mixedBoundary)

        let alternatives = try Self.parts(of: mixedParts[0], boundary: alternativeBoundary)
        try #require(alternatives.count == 2)
        #expect(try Self.headers(of: alternatives[0])["content-type"] == "text/plain; charset=utf-8")
        #expect(try Self.decodedBody(of: alternatives[0]) == Self.canonical(Self.text))
        #expect(try Self.headers(of: alternatives[1])["content-type"] == "text/calendar; method=REQUEST; charset=utf-8")
        #expect(try Self.decodedBody(of: alternatives[1]) == Self.canonical(Self.ics))

        let attachment = try Self.headers(of: mixedParts[1])
        #expect(attachment["content-type"] == "application/ics; name=\"invite.ics\"")
        #expect(attachment["content-disposition"] == "attachment; filename=\"invite.ics\"")
        #expect(try Self.decodedBody(of: mixedParts[1]) == Self.canonical(Self.ics))
        // The ics travels with CRLF line breaks, as RFC 5545 requires.
        #expect(try Self.decodedBody(of: mixedParts[1]).contains("METHOD:REQUEST\r\nBEGIN:VEVENT\r\n"))
    }

    @Test func boundariesAreStablePerMessageAndNeverInTheBodies() throws {
        let first = MIMEMessage.render(Self.invitation)
        #expect(MIMEMessage.render(Self.invitation) == first, "rendering is deterministic")
        var other = Self.invitation
        other.messageID = "<outbox-44@mediation.local>"
        let boundary = try #require(Self.boundary(in: Self.headers(of: first)["content-type"] ?? ""))
        let otherBoundary = try #require(
            Self.boundary(in: Self.headers(of: MIMEMessage.render(other))["content-type"] ?? ""))
        #expect(boundary != otherBoundary)
        // The delimiter appears exactly as delimiters: two parts and one close.
        #expect(first.components(separatedBy: "\r\n--\(boundary)\r\n").count == 3)
        #expect(first.components(separatedBy: "\r\n--\(boundary)--\r\n").count == 2)
    }

    @Test func calendarMethodAndFileNameAreSanitised() throws {
        var mail = Self.mail(calendar: CalendarPart(method: "cancel\r\nX-Evil: 1", ics: Self.ics, filename: "邀请 1.ics"))
        mail.messageID = "<outbox-45@mediation.local>"
        let raw = MIMEMessage.render(mail)
        #expect(raw.contains("Content-Type: text/calendar; method=CANCELX-EVIL; charset=utf-8\r\n"))
        #expect(raw.contains("filename*=utf-8''%E9%82%80%E8%AF%B7%201.ics"))
        #expect(!raw.contains("\r\nX-Evil"))
    }

    // MARK: Helpers (a minimal reader, independent of the renderer's own code)

    /// Every line break as CRLF.
    static func canonical(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
    }

    /// The header block of an entity (up to the first empty line), unfolded, as lower-cased name → value.
    static func headers(of entity: String) throws -> [String: String] {
        let block = try #require(entity.components(separatedBy: "\r\n\r\n").first)
        let unfolded = block.replacingOccurrences(of: "\r\n ", with: " ")
        var result: [String: String] = [:]
        for line in unfolded.components(separatedBy: "\r\n") {
            let colon = try #require(line.firstIndex(of: ":"), "header line without a colon: \(line)")
            let name = line[..<colon].lowercased()
            #expect(result[name] == nil, "header \(name) twice")
            result[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return result
    }

    /// The physical lines of one header field: its first line and its continuation lines.
    static func fieldLines(of raw: String, named name: String) -> [String] {
        var lines: [String] = []
        for line in raw.components(separatedBy: "\r\n") {
            if line.isEmpty { break }
            if line.hasPrefix("\(name):") || (!lines.isEmpty && line.hasPrefix(" ")) {
                lines.append(line)
            } else if !lines.isEmpty {
                break
            }
        }
        return lines
    }

    /// Decodes `=?UTF-8?B?…?=` words; the space between two adjacent encoded-words is dropped (RFC 2047 §6.2).
    static func decodeEncodedWords(_ value: String) throws -> String {
        var bytes: [UInt8] = []
        var pendingSpace = false
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            if word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?=") {
                let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
                bytes += try #require(Data(base64Encoded: String(payload)), "bad base64 in \(word)")
                pendingSpace = false
            } else {
                if !bytes.isEmpty || pendingSpace { bytes.append(32) }
                bytes += Array(word.utf8)
                pendingSpace = true
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func boundary(in contentType: String) -> String? {
        guard let range = contentType.range(of: "boundary=\"") else { return nil }
        let rest = contentType[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// The entities between `--boundary` delimiters, up to the closing `--boundary--`.
    static func parts(of entity: String, boundary: String) throws -> [String] {
        let body = try #require(entity.range(of: "\r\n\r\n")).upperBound
        let content = String(entity[body...])
        let closing = try #require(content.range(of: "--\(boundary)--\r\n"), "no closing delimiter")
        return Array(content[..<closing.lowerBound].components(separatedBy: "--\(boundary)\r\n").dropFirst())
    }

    static func decodedBody(of entity: String) throws -> String {
        let body = try #require(entity.range(of: "\r\n\r\n")).upperBound
        let base64 = entity[body...].components(separatedBy: "\r\n").joined()
        let data = try #require(Data(base64Encoded: base64), "body is not base64")
        return String(decoding: data, as: UTF8.self)
    }
}
