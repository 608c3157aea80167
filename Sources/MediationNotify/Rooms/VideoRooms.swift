import Crypto
import Foundation
import MediationCore

/// Where a session's video room lives, as chosen in the configuration.
public enum VideoRoomProvider: Sendable, Equatable {
    /// A Jitsi Meet deployment with JWT authentication: one signed token per participant.
    case jitsi(JitsiSettings)
    /// Any other meeting service: a URL template containing `{room}`, for example
    /// `https://meet.example.org/{room}`.
    case template(String)
    /// No video rooms: notices carry no link.
    case none
}

/// The settings of a Jitsi Meet deployment that authenticates with HS256 JWTs (prosody `token` auth).
public struct JitsiSettings: Sendable, Equatable {
    /// Host name (optionally with a port) of the deployment, without scheme or path: `meet.example.org`.
    public var domain: String
    /// The application id; becomes the token's `iss` (prosody `app_id`).
    public var appId: String
    /// The token's `aud` (prosody `asap_accepted_audiences`; Jitsi's default is `jitsi`).
    public var audience: String
    /// The shared HMAC secret (prosody `app_secret`); at least 32 bytes.
    public var secret: [UInt8]

    public init(domain: String, appId: String, audience: String = "jitsi", secret: [UInt8]) {
        self.domain = domain
        self.appId = appId
        self.audience = audience
        self.secret = secret
    }
}

extension JitsiSettings: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never shows the secret, so that settings printed into a log do not leak it.
    public var description: String {
        "JitsiSettings(domain: \(domain), appId: \(appId), audience: \(audience), secret: <\(secret.count) bytes>)"
    }
    public var debugDescription: String { description }
}

/// One person invited to a room.
public struct RoomParticipant: Sendable, Equatable {
    /// A stable identifier (for example `expert:42` or `party:7`); becomes `context.user.id`.
    public var id: String
    /// The display name shown in the meeting.
    public var name: String
    /// Optional; omitted from the token when nil.
    public var email: String?
    /// True only for the lead expert of the panel.
    public var moderator: Bool

    public init(id: String, name: String, email: String? = nil, moderator: Bool = false) {
        self.id = id
        self.name = name
        self.email = email
        self.moderator = moderator
    }
}

/// Room names, per-participant links and Jitsi tokens.
///
/// Tokens are issued when a notice is built and are never stored or logged: log `redact(link)` instead of the link.
///
/// A Jitsi token is an HS256 JWT with header `{"alg":"HS256","typ":"JWT"}` and these claims:
/// `iss` = app id, `aud` = audience, `sub` = domain, `room` = room name, `nbf` = start − 15 minutes,
/// `exp` = end + 30 minutes (both whole Unix seconds; `nbf` rounded down, `exp` rounded up), and
/// `context.user` = `id`, `name`, `email` (omitted when nil), `moderator`. There is deliberately no `iat`:
/// the token's lifetime is the session's, not the moment the notice happened to be rendered, so re-rendering a
/// notice yields the same token.
public enum VideoRooms {
    /// Seconds before the start from which a token is valid.
    public static let earlyEntry: Int = 15 * 60
    /// Seconds after the end until which a token stays valid.
    public static let lateExit: Int = 30 * 60
    /// The shortest HS256 secret accepted (RFC 7518 §3.2: a key at least as long as the hash output).
    public static let minimumSecretBytes = 32

    /// RFC 4648 base32 alphabet in lower case: URL-safe, and stable under Jitsi's lower-casing of room names.
    private static let alphabet: [Character] = Array("abcdefghijklmnopqrstuvwxyz234567")
    /// Characters in a room name from `newRoomName()`.
    public static let roomNameLength = 26
    /// Random bits carried by each character of a room name.
    public static let bitsPerRoomNameCharacter = 5

    /// A new unguessable room name: 26 lower-case base32 characters, 130 bits from `SystemRandomNumberGenerator`.
    public static func newRoomName() -> String {
        var generator = SystemRandomNumberGenerator()
        return newRoomName(using: &generator)
    }

    static func newRoomName<G: RandomNumberGenerator>(using generator: inout G) -> String {
        var name = ""
        name.reserveCapacity(roomNameLength)
        for _ in 0..<roomNameLength {
            name.append(alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))])
        }
        return name
    }

    /// The link one participant uses; nil for `.none`.
    ///
    /// For `.jitsi`: `https://DOMAIN/ROOM?jwt=TOKEN` with a token for this participant. For `.template`: the template
    /// with `{room}` replaced by the room name (nothing else is changed or encoded).
    public static func link(
        provider: VideoRoomProvider, room: String, participant: RoomParticipant, start: Date, end: Date
    ) throws -> String? {
        switch provider {
        case .none:
            return nil
        case .template(let template):
            try validate(provider)
            try checkRoom(room)
            return template.replacingOccurrences(of: "{room}", with: room)
        case .jitsi(let settings):
            let token = try jitsiToken(settings: settings, room: room, participant: participant, start: start, end: end)
            return "https://\(settings.domain)/\(room)?jwt=\(token)"
        }
    }

    /// The JWT alone (for tests, and for callers that must log without printing it).
    public static func jitsiToken(
        settings: JitsiSettings, room: String, participant: RoomParticipant, start: Date, end: Date
    ) throws -> String {
        try validate(.jitsi(settings))
        try checkRoom(room)
        guard end >= start else {
            throw MediationError.invalidInput(
                "the session ends (\(end)) before it starts (\(start))", hint: "give an end after the start")
        }
        guard !participant.id.isEmpty else {
            throw MediationError.invalidInput(
                "a room participant has an empty id", hint: "give every participant an id")
        }
        let header = Header(alg: "HS256", typ: "JWT")
        let claims = Claims(
            iss: settings.appId,
            aud: settings.audience,
            sub: settings.domain,
            room: room,
            nbf: Int(start.timeIntervalSince1970.rounded(.down)) - earlyEntry,
            exp: Int(end.timeIntervalSince1970.rounded(.up)) + lateExit,
            context: .init(
                user: .init(
                    id: participant.id, name: participant.name, email: participant.email,
                    moderator: participant.moderator)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let signingInput =
            base64URL(try encoder.encode(header)) + "." + base64URL(try encoder.encode(claims))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data(signingInput.utf8), using: SymmetricKey(data: settings.secret))
        return signingInput + "." + base64URL(Data(mac))
    }

    /// Checks a provider once, when the configuration is read, so that a bad one fails at start-up or reload
    /// rather than when the first notice is built.
    public static func validate(_ provider: VideoRoomProvider) throws {
        switch provider {
        case .none:
            return
        case .template(let template):
            guard template.contains("{room}") else {
                throw MediationError.invalidInput(
                    "video room template '\(template)' has no {room} placeholder",
                    hint: "write it as, for example, https://meet.example.org/{room}")
            }
            let sample = template.replacingOccurrences(of: "{room}", with: "room")
            guard let url = URL(string: sample), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
            else {
                throw MediationError.invalidInput(
                    "video room template '\(template)' is not an http(s) URL",
                    hint: "write it as, for example, https://meet.example.org/{room}")
            }
        case .jitsi(let settings):
            var problems = Problems()
            let domain = settings.domain
            if domain.trimmingWhitespace().isEmpty {
                problems.add("the jitsi domain is empty; give the host name of the Jitsi server, e.g. meet.example.org")
            } else if domain.contains("/") || domain.contains(where: \.isWhitespace) || domain.contains("?")
                || domain.contains("#") || URL(string: "https://\(domain)/")?.host == nil
            {
                problems.add(
                    "the jitsi domain '\(domain)' is not a host name; give only the host, e.g. meet.example.org, "
                        + "without https:// or a path")
            }
            if settings.appId.trimmingWhitespace().isEmpty {
                problems.add("the jitsi app id is empty; give the app_id configured in prosody")
            }
            if settings.audience.trimmingWhitespace().isEmpty {
                problems.add("the jitsi audience is empty; leave it out to use the default 'jitsi'")
            }
            if settings.secret.count < minimumSecretBytes {
                problems.add(
                    "the jitsi secret is \(settings.secret.count) bytes; HS256 needs at least \(minimumSecretBytes) "
                        + "(generate one with: openssl rand -hex 32)")
            }
            try problems.check("jitsi settings")
        }
    }

    /// Reads a secret given inline (`secret`) or as a file path (`secret_file`), trimming trailing newlines.
    public static func loadSecret(inline: String?, file: String?) throws -> [UInt8] {
        switch (inline, file) {
        case (.some, .some):
            throw MediationError.invalidInput(
                "both secret and secret_file are set", hint: "keep only one of them (secret_file is preferred)")
        case (.none, .none):
            throw MediationError.invalidInput(
                "no secret is configured", hint: "set secret_file to a file holding the secret, or secret")
        case (.some(let text), .none):
            let trimmed = trimTrailingNewlines(Array(text.utf8))
            guard !trimmed.isEmpty else {
                throw MediationError.invalidInput("secret is empty", hint: "give a secret, or use secret_file")
            }
            return trimmed
        case (.none, .some(let path)):
            guard !path.isEmpty else {
                throw MediationError.invalidInput(
                    "secret_file is empty", hint: "give the path of the file holding the secret")
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw MediationError.invalidInput(
                    "secret_file '\(path)' does not exist", hint: "create it, or correct the path")
            }
            guard !isDirectory.boolValue else {
                throw MediationError.invalidInput(
                    "secret_file '\(path)' is a directory", hint: "give the path of the file holding the secret")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MediationError.invalidInput(
                    "secret_file '\(path)' cannot be read", hint: "check its permissions for the daemon's user")
            }
            let trimmed = trimTrailingNewlines(Array(data))
            guard !trimmed.isEmpty else {
                throw MediationError.invalidInput(
                    "secret_file '\(path)' is empty", hint: "write the secret into it (openssl rand -hex 32)")
            }
            return trimmed
        }
    }

    /// The link with the value of its `jwt` query parameter replaced by `…`, safe to log.
    public static func redact(_ link: String) -> String {
        var result = ""
        var rest = Substring(link)
        while let range = findJWTParameter(in: rest) {
            result += rest[..<range.upperBound]
            result += "…"
            let valueStart = range.upperBound
            let valueEnd = rest[valueStart...].firstIndex(where: { $0 == "&" || $0 == "#" }) ?? rest.endIndex
            rest = rest[valueEnd...]
        }
        return result + rest
    }

    // MARK: - Private

    /// The range of `jwt=` at the start of a query parameter (after `?` or `&`), if any.
    private static func findJWTParameter(in text: Substring) -> Range<Substring.Index>? {
        var searchStart = text.startIndex
        while let found = text[searchStart...].range(of: "jwt=") {
            if found.lowerBound > text.startIndex {
                let before = text[text.index(before: found.lowerBound)]
                if before == "?" || before == "&" { return found }
            }
            searchStart = found.upperBound
        }
        return nil
    }

    private static func checkRoom(_ room: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard !room.isEmpty, room.count <= 200, room.allSatisfy(allowed.contains), room != ".", room != ".." else {
            throw MediationError.invalidInput(
                "room name '\(room)' is not usable in a URL",
                hint: "use letters, digits, '-', '_' or '.' (VideoRooms.newRoomName() makes a suitable one)")
        }
    }

    private static func trimTrailingNewlines(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        return bytes
    }

    static func base64URL(_ data: Data) -> String {
        var text = data.base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    private struct Header: Encodable {
        var alg: String
        var typ: String
    }

    private struct Claims: Encodable {
        struct Context: Encodable {
            struct User: Encodable {
                var id: String
                var name: String
                var email: String?  // encodeIfPresent: omitted when nil
                var moderator: Bool
            }
            var user: User
        }
        var iss: String
        var aud: String
        var sub: String
        var room: String
        var nbf: Int
        var exp: Int
        var context: Context
    }
}
