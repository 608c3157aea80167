import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends mail to one SMTP server over SwiftNIO.
///
/// A batch goes over one connection: the greeting, `EHLO`, `STARTTLS` and `EHLO` again (for `.starttls`), `AUTH`
/// (when a username is set), then `MAIL FROM`, `RCPT TO` and `DATA` for each message, `RSET` after a refused one,
/// and `QUIT`.
///
/// For example:
/// ```swift
/// let client = SMTPClient(settings: SMTPSettings(host: "smtp.example.org", username: "notices", password: pw))
/// let results = await client.send([mail1, mail2])   // one DeliveryResult per mail, in order
/// ```
///
/// How replies become results:
/// - A message the server accepted: `.sent` with the server's reply to the data (usually its queue id).
/// - A 5xx to `MAIL FROM`, any `RCPT TO` or the data: `.permanent("550 …")`; a 4xx: `.transient("451 …")`. The
///   message is all or nothing: when any recipient is refused nothing is sent, so that a retry reaches no one
///   twice (`.permanent` if any refusal was a 5xx, else `.transient`). The next message of the batch goes on.
/// - A message that cannot be sent as it is (no recipients, an address that is not one, a non-ASCII address to a
///   server without SMTPUTF8): `.permanent`, without troubling the server.
/// - A problem with the connection as a whole (refused, name not found, timeout, TLS failure, no STARTTLS, a
///   `421`, the connection dropped) gives `.transient` to the message in flight and to every message after it.
/// - A failed login (`535`) is a problem with the connection as a whole too, so it is `.transient`, not
///   `.permanent`: it is fixed in the configuration, not in the message, and the queued notices should go out
///   once it is. The same holds for TLS and certificate failures.
///
/// A connection lost after the data was sent but before the server's reply leaves the message `.transient`
/// although the server may have taken it; delivery is at least once, and the stable Message-ID lets a duplicate be
/// recognised.
///
/// `send` never throws: every problem becomes a result whose text says what to check.
public final class SMTPClient: Sendable {
    /// The server and how to talk to it.
    public let settings: SMTPSettings
    private let eventLoopGroup: any EventLoopGroup

    public init(settings: SMTPSettings, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.settings = settings
        self.eventLoopGroup = eventLoopGroup
    }

    /// Delivers `mails` over one connection; returns one result per mail, in order. `taken` hears each mail's
    /// Message-ID as soon as the server has accepted it.
    public func send(_ mails: [OutgoingMail], taken: @escaping @Sendable (String) -> Void = { _ in }) async
        -> [DeliveryResult]
    {
        guard !mails.isEmpty else { return [] }
        var results: [DeliveryResult] = []
        results.reserveCapacity(mails.count)
        var connection: SMTPConnection?
        do {
            let session = try await openSession()
            connection = session.connection
            for mail in mails {
                let result = try await session.deliver(mail)
                if case .sent = result { taken(mail.messageID) }
                results.append(result)
            }
            _ = try? await session.connection.command("QUIT")
        } catch {
            let message = (error as? SMTPSessionError)?.message ?? describe(error, during: "the session")
            while results.count < mails.count {
                results.append(.transient(message))
            }
        }
        await connection?.close()
        return results
    }

    // MARK: Session

    /// An open, greeted, secured and logged-in connection.
    struct Session {
        let client: SMTPClient
        let connection: SMTPConnection
        let capabilities: SMTPCapabilities
        /// Appended to the detail of each sent message (a warning about credentials sent in the clear).
        let note: String

        /// Sends one mail; throws only for a problem that ends the whole session.
        func deliver(_ mail: OutgoingMail) async throws -> DeliveryResult {
            let recipients = Self.envelopeRecipients(mail)
            guard !recipients.isEmpty else {
                return .permanent("the message has no recipients; give at least one To or Cc address")
            }
            for address in [mail.from.address] + recipients where !Self.isValidEnvelopeAddress(address) {
                return .permanent("'\(address)' is not a mail address; correct it where the notice's recipient is kept")
            }
            let needsUTF8 = ([mail.from.address] + recipients).contains { !$0.allSatisfy(\.isASCII) }
            if needsUTF8 && !capabilities.supports("SMTPUTF8") {
                return .permanent(
                    "\(client.endpoint) does not accept addresses with non-ASCII characters (no SMTPUTF8); "
                        + "use an ASCII address for this recipient")
            }
            let data = SMTPClient.dataBlock(MIMEMessage.render(mail))
            guard data.longestLine <= SMTPClient.maximumLineOctets else {
                return .permanent(
                    "the message has a line of \(data.longestLine) octets; SMTP allows \(SMTPClient.maximumLineOctets)")
            }

            var mailFrom = "MAIL FROM:<\(mail.from.address)>"
            if needsUTF8 { mailFrom += " SMTPUTF8" }
            if capabilities.supports("SIZE") { mailFrom += " SIZE=\(data.bytes.count)" }
            let fromReply = try await exchange(mailFrom)
            guard fromReply.isCompletion else {
                return try await refused([(fromReply, "MAIL FROM:<\(mail.from.address)>")])
            }
            var refusals: [(SMTPReply, String)] = []
            for recipient in recipients {
                let reply = try await exchange("RCPT TO:<\(recipient)>")
                if !reply.isCompletion {
                    refusals.append((reply, "RCPT TO:<\(recipient)>"))
                }
            }
            guard refusals.isEmpty else { return try await refused(refusals) }
            let dataReply = try await exchange("DATA")
            guard dataReply.code == 354 else { return try await refused([(dataReply, "DATA")]) }
            let final: SMTPReply
            do {
                try await connection.write(data.bytes)
                final = try await connection.reply()
            } catch {
                throw SMTPSessionError(client.describe(error, during: "the reply to the message data"))
            }
            if final.code == 421 { throw SMTPSessionError(client.closingMessage(final)) }
            guard final.isCompletion else { return try await refused([(final, "the message data")]) }
            return .sent(detail: final.summary + note)
        }

        /// Sends a command whose failure to get any reply ends the session; a 421 ends it too.
        func exchange(_ command: String) async throws -> SMTPReply {
            let reply: SMTPReply
            do {
                reply = try await connection.command(command)
            } catch {
                throw SMTPSessionError(client.describe(error, during: "the reply to \(command)"))
            }
            if reply.code == 421 { throw SMTPSessionError(client.closingMessage(reply)) }
            return reply
        }

        /// The result for a refused message, after `RSET` so that the next message starts clean.
        func refused(_ refusals: [(reply: SMTPReply, command: String)]) async throws -> DeliveryResult {
            let reset = try await exchange("RSET")
            guard reset.isCompletion else {
                throw SMTPSessionError("\(client.endpoint) refused RSET (\(reset.summary)); the session was ended")
            }
            let text = refusals.map { "\($0.reply.summary) (in reply to \($0.command))" }.joined(separator: "; ")
            if refusals.contains(where: { $0.reply.isPermanentFailure }) {
                return .permanent(text)
            }
            if refusals.allSatisfy({ $0.reply.isTransientFailure }) {
                return .transient(text)
            }
            return .transient("unexpected reply: \(text)")
        }

        /// To and Cc addresses, each once, in order.
        static func envelopeRecipients(_ mail: OutgoingMail) -> [String] {
            var seen = Set<String>()
            return (mail.to + mail.cc).map(\.address).filter { seen.insert($0.lowercased()).inserted }
        }

        /// Something@something with nothing that could break out of `<…>` or the command line.
        static func isValidEnvelopeAddress(_ address: String) -> Bool {
            guard let at = address.lastIndex(of: "@"), at != address.startIndex,
                address.index(after: at) != address.endIndex
            else { return false }
            return !address.unicodeScalars.contains {
                $0.value <= 0x20 || $0.value == 0x7F || "<>()[],;:\\\"".unicodeScalars.contains($0)
            }
        }
    }

    /// Connects, reads the greeting, says EHLO, secures the connection and logs in.
    func openSession() async throws -> Session {
        let tlsContext = try makeTLSContext()
        let connection: SMTPConnection
        do {
            connection = try await SMTPConnection.open(
                host: settings.host, port: settings.port, implicitTLS: settings.security == .tls ? tlsContext : nil,
                timeout: timeout, group: eventLoopGroup)
        } catch {
            throw SMTPSessionError(describeConnectFailure(error))
        }
        do {
            return try await greet(connection, tlsContext: tlsContext)
        } catch {
            await connection.close()
            throw error
        }
    }

    private func greet(_ connection: SMTPConnection, tlsContext: NIOSSLContext?) async throws -> Session {
        let greeting: SMTPReply
        do {
            greeting = try await connection.reply()
        } catch {
            throw SMTPSessionError(describe(error, during: "the server's greeting"))
        }
        guard greeting.code == 220 else {
            throw SMTPSessionError(
                "\(endpoint) does not accept mail from us now: it greeted with '\(greeting.summary)' instead of 220")
        }
        let session = Session(client: self, connection: connection, capabilities: SMTPCapabilities(), note: "")
        var capabilities = try await ehlo(session)
        if settings.security == .starttls {
            guard capabilities.supports("STARTTLS") else {
                throw SMTPSessionError(
                    "\(endpoint) does not offer STARTTLS, so nothing was sent in the clear; set "
                        + "\(SMTPSettingName.security) to tls if this is an implicit-TLS port (usually 465), or check "
                        + "\(SMTPSettingName.host) and \(SMTPSettingName.port)")
            }
            let reply = try await session.exchange("STARTTLS")
            guard reply.code == 220, let tlsContext else {
                throw SMTPSessionError("\(endpoint) refused STARTTLS: \(reply.summary)")
            }
            do {
                try await connection.startTLS(context: tlsContext, host: settings.host)
            } catch {
                throw SMTPSessionError(describe(error, during: "the TLS handshake"))
            }
            capabilities = try await ehlo(session)
        }
        var note = ""
        if let username = settings.username {
            if settings.security == .none {
                note = "; the password was sent unencrypted because \(SMTPSettingName.security) is none"
            }
            try await authenticate(
                Session(client: self, connection: connection, capabilities: capabilities, note: note),
                username: username, password: settings.password ?? "")
        }
        return Session(client: self, connection: connection, capabilities: capabilities, note: note)
    }

    /// EHLO, falling back to HELO (no extensions) for a server that does not know EHLO.
    private func ehlo(_ session: Session) async throws -> SMTPCapabilities {
        let name =
            settings.heloName.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
            ? settings.heloName : "localhost"
        let reply = try await session.exchange("EHLO \(name)")
        if reply.isCompletion { return SMTPCapabilities(ehlo: reply) }
        if reply.code == 500 || reply.code == 502 {
            let helo = try await session.exchange("HELO \(name)")
            if helo.isCompletion { return SMTPCapabilities() }
        }
        throw SMTPSessionError(
            "\(endpoint) refused our EHLO \(name): \(reply.summary); check \(SMTPSettingName.heloName)")
    }

    /// AUTH PLAIN when offered, else AUTH LOGIN. The credentials never appear in a message.
    private func authenticate(_ session: Session, username: String, password: String) async throws {
        let mechanisms = session.capabilities.authMechanisms
        let reply: SMTPReply
        if mechanisms.contains("PLAIN") {
            let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            reply = try await exchangeSecret(session, "AUTH PLAIN \(token)", label: "AUTH PLAIN")
        } else if mechanisms.contains("LOGIN") {
            let start = try await session.exchange("AUTH LOGIN")
            guard start.code == 334 else { throw loginFailure(start) }
            let user = try await exchangeSecret(
                session, Data(username.utf8).base64EncodedString(), label: "the AUTH LOGIN user name")
            guard user.code == 334 else { throw loginFailure(user) }
            reply = try await exchangeSecret(
                session, Data(password.utf8).base64EncodedString(), label: "the AUTH LOGIN password")
        } else if mechanisms.isEmpty {
            throw SMTPSessionError(
                "\(endpoint) does not offer a login (no AUTH in its EHLO reply); remove \(SMTPSettingName.username) "
                    + "if this server needs none, or check \(SMTPSettingName.host) and \(SMTPSettingName.port)")
        } else {
            throw SMTPSessionError(
                "\(endpoint) offers only AUTH \(mechanisms.sorted().joined(separator: " ")); this client speaks "
                    + "PLAIN and LOGIN: enable one of them on the server")
        }
        guard reply.code == 235 else { throw loginFailure(reply) }
    }

    /// Like `exchange`, but errors name `label` instead of the command, which carries credentials.
    private func exchangeSecret(_ session: Session, _ command: String, label: String) async throws -> SMTPReply {
        let reply: SMTPReply
        do {
            reply = try await session.connection.command(command)
        } catch {
            throw SMTPSessionError(describe(error, during: "the reply to \(label)"))
        }
        if reply.code == 421 { throw SMTPSessionError(closingMessage(reply)) }
        return reply
    }

    private func loginFailure(_ reply: SMTPReply) -> SMTPSessionError {
        let user = settings.username ?? ""
        if reply.isTransientFailure {
            return SMTPSessionError(
                "\(endpoint) could not check the login for '\(user)' now (\(reply.summary)); it will be tried again")
        }
        return SMTPSessionError(
            "\(endpoint) refused the login for '\(user)' (\(reply.summary)); check \(SMTPSettingName.username) and "
                + "\(SMTPSettingName.password)")
    }

    // MARK: TLS

    /// The TLS context for `.tls` and `.starttls`, nil for `.none`.
    func makeTLSContext() throws -> NIOSSLContext? {
        guard settings.security != .none else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile = settings.caFile {
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw SMTPSessionError(
                    "cannot read the CA file '\(caFile)'; check \(SMTPSettingName.caFile) and the file's permissions")
            }
            configuration.trustRoots = .file(caFile)
        }
        if !settings.verifyCertificates {
            configuration.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SMTPSessionError(
                "cannot set up TLS with the CA file '\(settings.caFile ?? "(system)")': \(error); check that "
                    + "\(SMTPSettingName.caFile) is a PEM file of certificates")
        }
    }

    // MARK: Messages

    /// `host:port`, as the messages name the server.
    var endpoint: String { "\(settings.host):\(settings.port)" }

    var timeout: TimeAmount { .seconds(Int64(max(1, settings.timeoutSeconds))) }

    func closingMessage(_ reply: SMTPReply) -> String {
        "\(endpoint) is closing the connection (\(reply.summary)); the remaining messages will be tried again"
    }

    /// A message for a failure to connect at all.
    func describeConnectFailure(_ error: any Error) -> String {
        let hostAndPort = "check \(SMTPSettingName.host) and \(SMTPSettingName.port)"
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.isEmpty && (error.dnsAError != nil || error.dnsAAAAError != nil) {
                return "cannot find the mail server '\(settings.host)' (the name does not resolve); check "
                    + "\(SMTPSettingName.host)"
            }
            let causes = error.connectionErrors.map(\.error)
            if causes.contains(where: { ($0 as? IOError)?.errnoCode == ECONNREFUSED }) {
                return "\(endpoint) refused the connection; \(hostAndPort), and that the mail server is running"
            }
            if causes.contains(where: { if case .connectTimeout = $0 as? ChannelError { true } else { false } }) {
                return timeoutConnecting(hostAndPort)
            }
            return "cannot connect to \(endpoint) (\(error)); \(hostAndPort)"
        }
        if case .connectTimeout = error as? ChannelError {
            return timeoutConnecting(hostAndPort)
        }
        if let error = error as? IOError, error.errnoCode == ECONNREFUSED {
            return "\(endpoint) refused the connection; \(hostAndPort), and that the mail server is running"
        }
        return "cannot connect to \(endpoint) (\(error)); \(hostAndPort)"
    }

    private func timeoutConnecting(_ hostAndPort: String) -> String {
        "\(endpoint) did not accept the connection within \(settings.timeoutSeconds) s; \(hostAndPort), and any "
            + "firewall in between"
    }

    /// A message for a failure on an open connection, while waiting for `step`.
    func describe(_ error: any Error, during step: String) -> String {
        if let error = error as? SMTPSessionError { return error.message }
        let matchSecurity =
            "check that \(SMTPSettingName.security) matches \(SMTPSettingName.port) (tls for 465, starttls for 587 "
            + "or 25)"
        switch error {
        case SMTPTransportError.timedOut:
            return
                "\(endpoint) did not answer within \(settings.timeoutSeconds) s (waiting for \(step)); \(matchSecurity)"
                + ", or raise \(SMTPSettingName.timeout) if the server is slow"
        case SMTPTransportError.closed, ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed,
            ChannelError.eof:
            return "\(endpoint) closed the connection (waiting for \(step)); \(matchSecurity)"
        case SMTPTransportError.malformedReply(let line):
            return "\(endpoint) sent something that is not an SMTP reply ('\(line.prefix(60))', waiting for \(step)); "
                + matchSecurity
        default:
            break
        }
        if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            return describeTLSFailure(error)
        }
        return "\(endpoint): \(error) (waiting for \(step))"
    }

    func describeTLSFailure(_ error: any Error) -> String {
        let text = String(describing: error)
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "the TLS certificate of \(endpoint) is not valid for the name '\(settings.host)'; set "
                + "\(SMTPSettingName.host) to a name that the certificate lists"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the TLS certificate of \(endpoint) is not trusted (self-signed, expired, or from an unknown "
                + "authority); if the server uses a private CA or a self-signed certificate, set "
                + "\(SMTPSettingName.caFile) to its PEM file (\(SMTPSettingName.verifyCertificates): false only for "
                + "testing)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") {
            return "\(endpoint) did not answer with TLS; if it is a STARTTLS port (usually 587 or 25), set "
                + "\(SMTPSettingName.security) to starttls"
        }
        return "TLS with \(endpoint) failed (\(text)); check \(SMTPSettingName.security), \(SMTPSettingName.port) and "
            + SMTPSettingName.caFile
    }

    // MARK: Data

    /// The longest line SMTP allows, without its CRLF (RFC 5321 §4.5.3.1.6).
    static let maximumLineOctets = 998

    /// The message as the DATA command sends it: every line break as CRLF, a `.` doubled at the start of a line
    /// (RFC 5321 §4.5.2), a final CRLF when missing, then the `.` line that ends the data.
    static func dataBlock(_ message: String) -> (bytes: [UInt8], longestLine: Int) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(message.utf8.count + 64)
        var lineLength = 0
        var longest = 0
        var previous: UInt8 = 0
        func endLine() {
            bytes += [13, 10]
            longest = max(longest, lineLength)
            lineLength = 0
        }
        for byte in message.utf8 {
            defer { previous = byte }
            switch byte {
            case 13:
                endLine()
            case 10:
                if previous != 13 { endLine() }
            default:
                if lineLength == 0 && byte == UInt8(ascii: ".") {
                    bytes.append(byte)  // the receiver removes it again, so it does not count
                }
                bytes.append(byte)
                lineLength += 1
            }
        }
        if lineLength > 0 || bytes.isEmpty {
            endLine()
        }
        bytes += Array(".\r\n".utf8)
        return (bytes, longest)
    }
}

/// A problem that ends the session; its message is given to every message not yet sent.
struct SMTPSessionError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
