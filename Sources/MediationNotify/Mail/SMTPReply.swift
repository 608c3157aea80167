/// One reply of an SMTP server: a three-digit code and the text of each of its lines (RFC 5321 §4.2).
struct SMTPReply: Sendable, Equatable {
    var code: Int
    /// The text after the code on each line, without the separator.
    var lines: [String]

    /// 2xx: the command was done.
    var isCompletion: Bool { (200..<300).contains(code) }
    /// 4xx: refused for now; the same command may work later.
    var isTransientFailure: Bool { (400..<500).contains(code) }
    /// 5xx: refused; repeating the command will not help.
    var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// The reply as one line, for results and error messages: `550 5.1.1 <x@example.org>: no such user`.
    var summary: String {
        let text = lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        return text.isEmpty ? "\(code)" : "\(code) \(text)"
    }
}

/// Assembles reply lines (`250-first`, `250-second`, `250 last`) into replies.
struct SMTPReplyParser {
    private var code: Int?
    private var lines: [String] = []

    /// True while some lines of a multi-line reply have been read but not its last one.
    var isInsideReply: Bool { code != nil }

    /// Takes one line without its CRLF; returns the reply that this line completes, or nil when more lines follow.
    mutating func feed(_ line: String) throws(SMTPTransportError) -> SMTPReply? {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0..<3].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let code = Int(String(decoding: bytes[0..<3], as: UTF8.self))
        else {
            throw .malformedReply(line)
        }
        let separator = bytes.count > 3 ? bytes[3] : UInt8(ascii: " ")
        guard separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-") else {
            throw .malformedReply(line)
        }
        if let current = self.code, current != code {
            throw .malformedReply(line)
        }
        lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        guard separator == UInt8(ascii: " ") else {
            self.code = code
            return nil
        }
        let reply = SMTPReply(code: code, lines: lines)
        self.code = nil
        lines = []
        return reply
    }
}

/// The extensions a server announced in its EHLO reply (RFC 5321 §4.1.1.1).
struct SMTPCapabilities: Sendable, Equatable {
    /// Upper-cased keyword → its parameters, for example `AUTH` → `["PLAIN", "LOGIN"]`.
    var extensions: [String: [String]] = [:]

    init() {}

    /// Reads every line but the first (which is the server's greeting of this client).
    init(ehlo reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            var words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map { String($0).uppercased() }
            guard !words.isEmpty else { continue }
            let keyword = words.removeFirst()
            // Old servers announce "AUTH=LOGIN PLAIN" beside or instead of "AUTH LOGIN PLAIN"; merge both.
            extensions[keyword, default: []].append(contentsOf: words)
        }
    }

    func supports(_ keyword: String) -> Bool { extensions[keyword.uppercased()] != nil }

    /// The SASL mechanisms offered after `AUTH`.
    var authMechanisms: Set<String> { Set(extensions["AUTH"] ?? []) }
}

/// What can go wrong below the level of SMTP commands.
enum SMTPTransportError: Error, Equatable {
    /// No reply within the timeout.
    case timedOut
    /// The server closed the connection.
    case closed
    /// A line that is not an SMTP reply (for example a TLS handshake read as text, or an HTTP server).
    case malformedReply(String)
    /// A reply was asked for while another request was still waiting: a bug in this client.
    case overlappingRead
}
