import Crypto
import Foundation

/// Renders an `OutgoingMail` as an RFC 5322 / MIME message.
///
/// The output uses CRLF line breaks throughout and no line is longer than 998 octets, so it can be handed to SMTP
/// as it is (after dot-stuffing). Header fields are folded at spaces near 78 columns; a subject or display name that
/// is not plain ASCII becomes RFC 2047 `=?UTF-8?B?…?=` encoded-words. Every body is UTF-8 in base64 with 76-character
/// lines, which keeps the message 7-bit clean for any relay.
///
/// A mail without a calendar part is a single `text/plain; charset=utf-8` body. With one, the structure is the one
/// Gmail and Outlook send for invitations:
/// ```
/// multipart/mixed
/// ├─ multipart/alternative
/// │  ├─ text/plain; charset=utf-8
/// │  └─ text/calendar; method=REQUEST; charset=utf-8
/// └─ application/ics; name="invite.ics"  (Content-Disposition: attachment)
/// ```
/// Boundaries are derived from the Message-ID, so rendering the same mail twice gives the same bytes.
///
/// For example:
/// ```swift
/// let raw = MIMEMessage.render(mail)   // "Date: Tue, 04 Mar 2025 01:30:00 +0000\r\nFrom: …"
/// ```
public enum MIMEMessage {
    /// Column at which header fields are folded when a space allows it (RFC 5322 §2.1.1).
    static let foldColumn = 78
    /// Longest line an encoded-word may sit on (RFC 2047 §2).
    static let encodedWordLineLimit = 76
    /// Characters per line of base64 bodies (RFC 2045 §6.8).
    static let base64LineLength = 76

    /// The message as text with CRLF line breaks, ending with a CRLF.
    public static func render(_ mail: OutgoingMail) -> String {
        var headers: [String] = []
        headers.append(field("Date", rfc5322Date(mail.date)))
        headers.append(addressField("From", [mail.from]))
        headers.append(addressField("To", mail.to))
        if !mail.cc.isEmpty {
            headers.append(addressField("Cc", mail.cc))
        }
        headers.append(unstructuredField("Subject", mail.subject))
        headers.append(field("Message-ID", normalizedMessageID(mail.messageID)))
        headers.append(field("MIME-Version", "1.0"))
        for name in mail.extraHeaders.keys.sorted() {
            guard isValidFieldName(name), !writtenFields.contains(name.lowercased()),
                let value = mail.extraHeaders[name]
            else { continue }
            headers.append(unstructuredField(name, replacingLineBreaks(in: value, with: " ")))
        }

        let text = textPart(mail.text)
        guard let calendar = mail.calendar else {
            return headers.joined() + text.rendered
        }
        let boundaries = boundaries(for: mail.messageID)
        let alternative = Part.multipart(
            "multipart/alternative", boundary: boundaries.alternative,
            parts: [text, calendarPart(calendar)])
        let mixed = Part.multipart(
            "multipart/mixed", boundary: boundaries.mixed,
            parts: [alternative, attachmentPart(calendar)])
        return headers.joined() + mixed.rendered
    }

    // MARK: Parts

    /// One MIME entity: its `Content-*` header fields (already folded, each ending in CRLF) and its body.
    struct Part {
        var headers: [String]
        var body: String

        var rendered: String { headers.joined() + "\r\n" + body }

        static func multipart(_ type: String, boundary: String, parts: [Part]) -> Part {
            var body = ""
            for part in parts {
                body += "--\(boundary)\r\n" + part.rendered
            }
            body += "--\(boundary)--\r\n"
            return Part(headers: [field("Content-Type", "\(type); boundary=\"\(boundary)\"")], body: body)
        }
    }

    static func textPart(_ text: String) -> Part {
        Part(
            headers: [
                field("Content-Type", "text/plain; charset=utf-8"),
                field("Content-Transfer-Encoding", "base64"),
            ],
            body: base64Lines(Array(canonicalLineBreaks(text).utf8)))
    }

    static func calendarPart(_ calendar: CalendarPart) -> Part {
        Part(
            headers: [
                field("Content-Type", "text/calendar; method=\(methodToken(calendar.method)); charset=utf-8"),
                field("Content-Transfer-Encoding", "base64"),
            ],
            body: base64Lines(Array(canonicalLineBreaks(calendar.ics).utf8)))
    }

    static func attachmentPart(_ calendar: CalendarPart) -> Part {
        Part(
            headers: [
                field("Content-Type", "application/ics; " + parameter("name", calendar.filename)),
                field("Content-Disposition", "attachment; " + parameter("filename", calendar.filename)),
                field("Content-Transfer-Encoding", "base64"),
            ],
            body: base64Lines(Array(canonicalLineBreaks(calendar.ics).utf8)))
    }

    /// Two boundaries that cannot occur in base64 bodies (`=_` never appears after `--` there) and stay the same
    /// for the same Message-ID.
    static func boundaries(for messageID: String) -> (mixed: String, alternative: String) {
        let digest = SHA256.hash(data: Data(messageID.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return ("=_mixed_\(digest)", "=_alt_\(digest)")
    }

    /// The iTIP method as a MIME token: upper case letters and `-` only.
    static func methodToken(_ method: String) -> String {
        let token = String(method.uppercased().unicodeScalars.filter { ("A"..."Z").contains($0) || $0 == "-" })
        return token.isEmpty ? "PUBLISH" : token
    }

    /// `name="value"` for a plain ASCII value, else the RFC 2231 form `name*=utf-8''percent-encoded`.
    static func parameter(_ name: String, _ value: String) -> String {
        let plain = value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }
        if plain && !value.isEmpty {
            return "\(name)=\"\(value)\""
        }
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let encoded = value.utf8.map {
            unreserved.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0)
        }
        return "\(name)*=utf-8''" + encoded.joined()
    }

    // MARK: Header fields

    /// Fields whose values come from `OutgoingMail`'s own properties; `extraHeaders` cannot override them.
    static let writtenFields: Set<String> = [
        "date", "from", "to", "cc", "bcc", "subject", "message-id", "mime-version", "content-type",
        "content-transfer-encoding", "content-disposition",
    ]

    /// RFC 5322 §3.6.8: printable ASCII except the colon.
    static func isValidFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") }
    }

    /// `Name: value` folded at spaces: a line is broken before a word that would pass column 78, never before an
    /// empty word (a continuation line must not be blank). Ends with CRLF.
    static func field(_ name: String, _ value: String) -> String {
        var result = "\(name):"
        var lineLength = result.utf8.count
        for word in value.split(separator: " ", omittingEmptySubsequences: false) {
            let wordLength = word.utf8.count
            if lineLength + 1 + wordLength > foldColumn && !word.isEmpty && lineLength > name.utf8.count + 1 {
                result += "\r\n "
                lineLength = 1
            } else {
                result += " "
                lineLength += 1
            }
            result += word
            lineLength += wordLength
        }
        return result + "\r\n"
    }

    /// An unstructured field (RFC 5322 §3.2.5) such as `Subject`: written as it is when it is printable ASCII with no
    /// word too long to fold and nothing that looks like an encoded-word; otherwise as encoded-words.
    static func unstructuredField(_ name: String, _ value: String) -> String {
        let plain =
            value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
            && !value.contains("=?")
            && value.split(separator: " ").allSatisfy { $0.utf8.count <= foldColumn - 2 }
        if plain {
            return field(name, value)
        }
        let firstLineRoom = encodedWordLineLimit - (name.utf8.count + 2)
        return field(name, encodedWords(value, firstLineRoom: firstLineRoom).joined(separator: " "))
    }

    /// A field holding a list of addresses, each `phrase <address>` or a bare `address`.
    static func addressField(_ name: String, _ addresses: [MailAddress]) -> String {
        let rendered = addresses.map(renderAddress)
        return field(name, rendered.joined(separator: ", "))
    }

    static func renderAddress(_ address: MailAddress) -> String {
        let bare = sanitizedAddress(address.address)
        guard let name = address.name.map({ replacingLineBreaks(in: $0, with: " ") }), !name.isEmpty else {
            return bare
        }
        return "\(phrase(name)) <\(bare)>"
    }

    /// An address with the characters that could end the header or the angle brackets removed.
    static func sanitizedAddress(_ address: String) -> String {
        String(address.unicodeScalars.filter { $0.value > 0x20 && $0 != "<" && $0 != ">" && $0 != "," })
    }

    /// A display name: as it is when it is all atext and spaces, quoted when it is other printable ASCII, encoded-words
    /// when it is not ASCII.
    static func phrase(_ name: String) -> String {
        let scalars = name.unicodeScalars
        if scalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && !name.contains("=?") {
            let atextSpecials = Set("!#$%&'*+-/=?^_`{|}~ ".unicodeScalars)
            if scalars.allSatisfy({ isASCIILetterOrDigit($0) || atextSpecials.contains($0) }) {
                return name
            }
            let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\""
        }
        return encodedWords(name, firstLineRoom: encodedWordLineLimit - 1).joined(separator: " ")
    }

    static func isASCIILetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// RFC 2047 `=?UTF-8?B?…?=` words covering `text`, none splitting a character. The first word fits in
    /// `firstLineRoom` characters (so that it fits beside the field name), the others on a continuation line of 76.
    static func encodedWords(_ text: String, firstLineRoom: Int) -> [String] {
        let overhead = "=?UTF-8?B??=".utf8.count
        // Base64 turns 3 bytes into 4 characters; the limits are in characters, so convert back to whole groups.
        func maxBytes(room: Int) -> Int { max(3, (room - overhead) / 4 * 3) }
        var words: [String] = []
        var chunk: [UInt8] = []
        var limit = maxBytes(room: firstLineRoom)
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if !chunk.isEmpty && chunk.count + bytes.count > limit {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
                limit = maxBytes(room: encodedWordLineLimit - 1)
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
        }
        return words
    }

    /// The Message-ID with surrounding space and line breaks removed and angle brackets added when missing.
    static func normalizedMessageID(_ messageID: String) -> String {
        let trimmed = String(messageID.unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F })
        if trimmed.hasPrefix("<") && trimmed.hasSuffix(">") {
            return trimmed
        }
        return "<\(trimmed.trimmingCharacters(in: CharacterSet(charactersIn: "<>")))>"
    }

    /// RFC 5322 §3.3 date-time in UTC, for example `Tue, 04 Mar 2025 01:30:00 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = days[((c.weekday ?? 1) - 1) % 7]
        let month = months[((c.month ?? 1) - 1) % 12]
        func two(_ n: Int?) -> String { n.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return
            "\(weekday), \(two(c.day)) \(month) \(c.year ?? 1970) \(two(c.hour)):\(two(c.minute)):\(two(c.second)) +0000"
    }

    // MARK: Bodies

    /// Every line break (`\r\n`, `\n` or a lone `\r`) as CRLF: the canonical form of text before base64 (RFC 2045
    /// §6.8), and what iCalendar requires.
    static func canonicalLineBreaks(_ text: String) -> String {
        replacingLineBreaks(in: text, with: "\r\n")
    }

    /// `text` with each `\r\n`, lone `\r` and lone `\n` replaced by `separator`.
    static func replacingLineBreaks(in text: String, with separator: String) -> String {
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        // Most header values have no line break at all.
        guard text.utf8.contains(where: { $0 == cr || $0 == lf }) else { return text }
        // CR and LF are ASCII, so they never occur inside a multi-byte UTF-8 sequence: bytes are enough.
        let replacement = Array(separator.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count + text.utf8.count / 32)
        var previousWasCR = false
        for byte in text.utf8 {
            if byte == lf && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = byte == cr
            if byte == cr || byte == lf {
                result.append(contentsOf: replacement)
            } else {
                result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Base64 in lines of 76 characters, each ending in CRLF.
    static func base64Lines(_ bytes: [UInt8]) -> String {
        let encoded = Array(Data(bytes).base64EncodedString().utf8)
        var result = ""
        result.reserveCapacity(encoded.count + encoded.count / base64LineLength * 2 + 2)
        var start = 0
        while start < encoded.count {
            let end = min(start + base64LineLength, encoded.count)
            result += String(decoding: encoded[start..<end], as: UTF8.self) + "\r\n"
            start = end
        }
        return result
    }
}
