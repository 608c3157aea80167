import Foundation
import Synchronization
import Testing

@testable import MediationNotify

/// `SMTPClient` against a real SMTP server: aiosmtpd in Tests/peers/smtp_server.py, which parses what it receives
/// with Python's `email` package.
@Suite struct SMTPTests {
    static let user = "notices@mediation.test"
    static let password = "s3cret 密码"
    static let date = Date(timeIntervalSince1970: 1_741_051_800)  // 2025-03-04 01:30:00 UTC

    static func mail(
        _ number: Int, to: [MailAddress] = [MailAddress("wang@example.org", name: "王律师")], cc: [MailAddress] = [],
        calendar: CalendarPart? = nil
    ) -> OutgoingMail {
        OutgoingMail(
            from: MailAddress("notices@mediation.test", name: "调解中心"), to: to, cc: cc,
            subject: "调解会议通知：第 2025-0\(number) 号纠纷，3 月 4 日 09:30，请准时参加（第 \(number) 封）",
            text: "王律师，您好：\n\n第 2025-0\(number) 号纠纷的调解会议定于 3 月 4 日 09:30 举行。\n.以点开头的一行\n",
            calendar: calendar, messageID: "<outbox-\(number)@mediation.local>", date: date,
            extraHeaders: ["X-Outbox-Id": "\(number)"])
    }

    static let invitation = CalendarPart(method: "REQUEST", ics: MIMETests.ics)

    func settings(
        _ peer: SMTPPeer, _ security: SMTPSettings.Security, auth: Bool = true, password: String = password,
        trustTestCertificate: Bool = true
    ) throws -> SMTPSettings {
        SMTPSettings(
            host: "localhost", port: peer.port, security: security, username: auth ? Self.user : nil,
            password: auth ? password : nil, caFile: trustTestCertificate ? try TLSFiles.require().certificate : nil,
            heloName: "mediation.test", timeoutSeconds: 10)
    }

    // MARK: Delivery

    @Test func batchOverSTARTTLSWithAuthPlainGoesOverOneConnection() async throws {
        let peer = try SMTPPeer(
            ["--starttls", "--user", Self.user, "--password", Self.password] + TLSFiles.arguments())
        defer { peer.stop() }
        let mails = [
            Self.mail(1, calendar: Self.invitation),
            Self.mail(2, cc: [MailAddress("clerk@example.org", name: "Clerk, Office")]),
            Self.mail(3, to: [MailAddress("li@example.org"), MailAddress("zhao@example.org", name: "赵")]),
        ]
        let results = await SMTPClient(settings: try settings(peer, .starttls)).send(mails)

        #expect(results.count == 3)
        for (index, result) in results.enumerated() {
            #expect(result.isSent, "mail \(index + 1): \(result)")
            #expect(result.detail.hasPrefix("250 2.0.0 OK: queued as msg-00\(index + 1)"), "\(result.detail)")
        }
        #expect(try peer.connectionCount() == 1, "the batch used more than one connection")
        let received = try peer.received()
        try #require(received.count == 3)
        for (message, mail) in zip(received, mails) {
            #expect(message.connection == 1)
            #expect(message.tls)
            #expect(message.authMechanism == "PLAIN")
            #expect(message.authLogin == Self.user)
            #expect(message.mailFrom == "notices@mediation.test")
            #expect(message.rcptTos == (mail.to + mail.cc).map(\.address))
            let parsed = message.parsed
            #expect(parsed.defects == [], "the email package found defects")
            #expect(parsed.subject == mail.subject)
            #expect(parsed.from == [["调解中心", "notices@mediation.test"]])
            #expect(parsed.to == mail.to.map { [$0.name ?? "", $0.address] })
            #expect(parsed.cc == mail.cc.map { [$0.name ?? "", $0.address] })
            #expect(parsed.messageId == mail.messageID)
            #expect(parsed.dateIso == "2025-03-04T01:30:00+00:00")
            #expect(parsed.mimeVersion == "1.0")
            #expect(parsed.extra["X-Outbox-Id"] == mail.extraHeaders["X-Outbox-Id"])
            #expect(parsed.text == MIMETests.canonical(mail.text))
        }
        // The invitation: the calendar as an alternative to the text, and as an attachment.
        let invitation = received[0].parsed
        #expect(
            invitation.structure == [
                "multipart/mixed", "  multipart/alternative", "    text/plain", "    text/calendar",
                "  application/ics",
            ])
        #expect(invitation.calendar?.method == "REQUEST")
        #expect(invitation.calendar?.charset == "utf-8")
        #expect(invitation.calendar?.content == MIMETests.canonical(MIMETests.ics))
        #expect(invitation.attachments.count == 1)
        #expect(invitation.attachments.first?.filename == "invite.ics")
        #expect(invitation.attachments.first?.nameParam == "invite.ics")
        #expect(invitation.attachments.first?.contentType == "application/ics")
        #expect(invitation.attachments.first?.content == MIMETests.canonical(MIMETests.ics))
        #expect(received[1].parsed.structure == ["text/plain"])
        #expect(received[1].parsed.calendar == nil)
        // The raw data arrived with CRLF line breaks and the dot-stuffing undone.
        let raw = try peer.raw(1)
        #expect(raw.contains("\r\nMessage-ID: <outbox-1@mediation.local>\r\n"))
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test func authLoginIsUsedWhenPlainIsNotOffered() async throws {
        let peer = try SMTPPeer(
            ["--starttls", "--no-plain", "--user", Self.user, "--password", Self.password] + TLSFiles.arguments())
        defer { peer.stop() }
        let results = await SMTPClient(settings: try settings(peer, .starttls)).send([Self.mail(1)])
        #expect(results.map(\.isSent) == [true], "\(results)")
        #expect(try peer.received().map(\.authMechanism) == ["LOGIN"])
    }

    @Test func implicitTLSWorks() async throws {
        let peer = try SMTPPeer(
            ["--implicit-tls", "--user", Self.user, "--password", Self.password] + TLSFiles.arguments())
        defer { peer.stop() }
        let results = await SMTPClient(settings: try settings(peer, .tls)).send([Self.mail(1), Self.mail(2)])
        #expect(results.map(\.isSent) == [true, true], "\(results)")
        let received = try peer.received()
        #expect(received.map(\.connection) == [1, 1])
        #expect(received.map(\.authMechanism) == ["PLAIN", "PLAIN"])
        #expect(received.first?.parsed.subject == Self.mail(1).subject)
    }

    @Test func plainConnectionWithoutTLSSaysThatThePasswordWentInTheClear() async throws {
        let peer = try SMTPPeer(["--user", Self.user, "--password", Self.password])
        defer { peer.stop() }
        let results = await SMTPClient(settings: try settings(peer, .none)).send([Self.mail(1)])
        #expect(results.map(\.isSent) == [true], "\(results)")
        #expect(results.first?.detail.contains("the password was sent unencrypted") == true, "\(results)")
        #expect(try peer.received().first?.tls == false)
    }

    // MARK: Refusals

    @Test func refusedRecipientsFailTheirMessageOnlyAndTheBatchGoesOn() async throws {
        let peer = try SMTPPeer(
            [
                "--starttls", "--user", Self.user, "--password", Self.password, "--reject", "gone@example.org",
                "--defer", "busy@example.org",
            ] + TLSFiles.arguments())
        defer { peer.stop() }
        let mails = [
            Self.mail(1),
            Self.mail(2, to: [MailAddress("gone@example.org")]),
            Self.mail(3, to: [MailAddress("busy@example.org")]),
            // One good and one refused recipient: nothing is sent, so a retry reaches no one twice.
            Self.mail(4, to: [MailAddress("wang@example.org")], cc: [MailAddress("gone@example.org")]),
            Self.mail(5),
        ]
        let taken = Mutex<[String]>([])
        let results = await SMTPClient(settings: try settings(peer, .starttls)).send(
            mails, taken: { id in taken.withLock { $0.append(id) } })
        try #require(results.count == 5)
        // Each accepted message is reported as taken the moment the server accepts it; refused ones are not.
        #expect(taken.withLock { $0 } == ["<outbox-1@mediation.local>", "<outbox-5@mediation.local>"])
        #expect(results[0].isSent)
        #expect(
            results[1]
                == .permanent(
                    "550 5.1.1 <gone@example.org>: Recipient address rejected: no such mailbox (in reply to "
                        + "RCPT TO:<gone@example.org>)"))
        #expect(
            results[2]
                == .transient(
                    "451 4.3.0 <busy@example.org>: Temporary local problem, try again later (in reply to "
                        + "RCPT TO:<busy@example.org>)"))
        guard case .permanent(let both) = results[3] else {
            Issue.record("a message with a refused recipient: \(results[3])")
            return
        }
        #expect(both.hasPrefix("550 5.1.1 <gone@example.org>"))
        #expect(results[4].isSent, "\(results[4])")
        #expect(try peer.connectionCount() == 1)
        #expect(
            try peer.received().map(\.parsed.messageId) == ["<outbox-1@mediation.local>", "<outbox-5@mediation.local>"])
    }

    @Test func invalidAddressesArePermanentAndDoNotReachTheServer() async throws {
        let peer = try SMTPPeer(
            ["--starttls", "--user", Self.user, "--password", Self.password] + TLSFiles.arguments())
        defer { peer.stop() }
        let injected = Self.mail(1, to: [MailAddress("x@example.org>\r\nRCPT TO:<evil@example.org")])
        let results = await SMTPClient(settings: try settings(peer, .starttls)).send([injected, Self.mail(2, to: [])])
        #expect(results.map(\.isSent) == [false, false])
        #expect(results[0].detail.contains("is not a mail address"), "\(results[0])")
        #expect(results[1].detail.contains("no recipients"), "\(results[1])")
        #expect(try peer.received().isEmpty)
    }

    // MARK: Connection problems: every message stays queued

    @Test func wrongPasswordIsAClearTransientFailureForEveryMessage() async throws {
        let peer = try SMTPPeer(
            ["--starttls", "--user", Self.user, "--password", Self.password] + TLSFiles.arguments())
        defer { peer.stop() }
        let results = await SMTPClient(settings: try settings(peer, .starttls, password: "wrong"))
            .send([Self.mail(1), Self.mail(2)])
        #expect(results.count == 2)
        for result in results {
            guard case .transient(let message) = result else {
                Issue.record("expected transient, got \(result)")
                continue
            }
            #expect(message.contains("localhost:\(peer.port) refused the login for '\(Self.user)' (535"), "\(message)")
            #expect(message.contains("check smtp.username and smtp.password"))
            #expect(!message.contains("wrong"), "the message must not show the password")
        }
        #expect(try peer.received().isEmpty)
    }

    @Test func selfSignedCertificateIsRefusedUnlessItsCAFileIsGiven() async throws {
        let peer = try SMTPPeer(
            ["--starttls", "--user", Self.user, "--password", Self.password] + TLSFiles.arguments())
        defer { peer.stop() }
        let refused = await SMTPClient(settings: try settings(peer, .starttls, trustTestCertificate: false)).send([
            Self.mail(1)
        ])
        guard case .transient(let message) = refused.first else {
            Issue.record("expected a transient failure, got \(refused)")
            return
        }
        #expect(message.contains("the TLS certificate of localhost:\(peer.port) is not trusted"), "\(message)")
        #expect(message.contains("set smtp.ca_file"))
        #expect(try peer.received().isEmpty)

        let trusted = await SMTPClient(settings: try settings(peer, .starttls)).send([Self.mail(2)])
        #expect(trusted.map(\.isSent) == [true], "\(trusted)")

        var unchecked = try settings(peer, .starttls, trustTestCertificate: false)
        unchecked.verifyCertificates = false
        let uncheckedResults = await SMTPClient(settings: unchecked).send([Self.mail(3)])
        #expect(uncheckedResults.map(\.isSent) == [true], "\(uncheckedResults)")
        #expect(
            try peer.received().map(\.parsed.messageId) == ["<outbox-2@mediation.local>", "<outbox-3@mediation.local>"])
    }

    @Test func certificateForAnotherNameIsRefused() async throws {
        // The certificate names localhost and 127.0.0.1, not 127.0.0.2 (which is on the loopback too).
        let peer = try SMTPPeer(["--implicit-tls", "--host", "127.0.0.2"] + TLSFiles.arguments())
        defer { peer.stop() }
        var other = try settings(peer, .tls, auth: false)
        other.host = "127.0.0.2"
        let results = await SMTPClient(settings: other).send([Self.mail(1)])
        #expect(
            results
                == [
                    .transient(
                        "the TLS certificate of 127.0.0.2:\(peer.port) is not valid for the name '127.0.0.2'; set "
                            + "smtp.host to a name that the certificate lists")
                ])
        #expect(try peer.received().isEmpty)
    }

    @Test func serverThatIsDownGivesTransientForAll() async throws {
        let peer = try SMTPPeer([])
        let port = peer.port
        peer.stop()
        let settings = SMTPSettings(host: "127.0.0.1", port: port, security: .starttls, timeoutSeconds: 5)
        let results = await SMTPClient(settings: settings).send([Self.mail(1), Self.mail(2), Self.mail(3)])
        #expect(results.count == 3)
        for result in results {
            #expect(
                result
                    == .transient(
                        "127.0.0.1:\(port) refused the connection; check smtp.host and smtp.port, and that "
                            + "the mail server is running"))
        }
    }

    @Test func serverThatNeverAnswersTimesOut() async throws {
        let peer = try SMTPPeer(["--silent"])
        defer { peer.stop() }
        var settings = SMTPSettings(host: "127.0.0.1", port: peer.port, security: .starttls, timeoutSeconds: 1)
        settings.heloName = "mediation.test"
        let results = await SMTPClient(settings: settings).send([Self.mail(1), Self.mail(2)])
        #expect(results.count == 2)
        for result in results {
            guard case .transient(let message) = result else {
                Issue.record("expected transient, got \(result)")
                continue
            }
            #expect(
                message.hasPrefix(
                    "127.0.0.1:\(peer.port) did not answer within 1 s (waiting for the server's greeting)"))
        }
    }

    @Test func starttlsIsRequiredWhenAskedFor() async throws {
        let peer = try SMTPPeer(["--user", Self.user, "--password", Self.password])
        defer { peer.stop() }
        let results = await SMTPClient(settings: try settings(peer, .starttls)).send([Self.mail(1)])
        #expect(
            results.first?.detail.contains("does not offer STARTTLS, so nothing was sent in the clear") == true,
            "\(results)")
        #expect(results.first?.isSent == false)
        #expect(try peer.received().isEmpty)
    }

    @Test func implicitTLSAgainstAPlainPortSaysSo() async throws {
        let peer = try SMTPPeer([])
        defer { peer.stop() }
        let results = await SMTPClient(settings: try settings(peer, .tls, auth: false)).send([Self.mail(1)])
        guard case .transient(let message) = results.first else {
            Issue.record("expected transient, got \(results)")
            return
        }
        #expect(message.contains("did not answer with TLS"), "\(message)")
        #expect(message.contains("set smtp.security to starttls"))
    }

    @Test func emptyBatchDoesNotConnect() async {
        let settings = SMTPSettings(host: "127.0.0.1", port: 1, security: .none)
        #expect(await SMTPClient(settings: settings).send([]) == [])
    }

    // MARK: Protocol pieces

    @Test func dataIsDotStuffedWithCRLFAndEndsWithTheDotLine() {
        let block = SMTPClient.dataBlock("Subject: x\r\n\r\n.hidden\n..two\rlast")
        #expect(String(decoding: block.bytes, as: UTF8.self) == "Subject: x\r\n\r\n..hidden\r\n...two\r\nlast\r\n.\r\n")
        #expect(block.longestLine == 10)
        let long = SMTPClient.dataBlock(String(repeating: "a", count: 999) + "\r\n")
        #expect(long.longestLine == 999)
    }

    @Test func multiLineRepliesAndCapabilitiesAreParsed() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed("250-peer.test Hello") == nil)
        #expect(try parser.feed("250-AUTH LOGIN PLAIN") == nil)
        #expect(try parser.feed("250-AUTH=LOGIN") == nil)
        #expect(try parser.feed("250-SIZE 33554432") == nil)
        let reply = try #require(try parser.feed("250 STARTTLS"))
        #expect(reply.code == 250)
        #expect(reply.lines == ["peer.test Hello", "AUTH LOGIN PLAIN", "AUTH=LOGIN", "SIZE 33554432", "STARTTLS"])
        let capabilities = SMTPCapabilities(ehlo: reply)
        #expect(capabilities.supports("starttls"))
        #expect(capabilities.authMechanisms == ["LOGIN", "PLAIN"])
        #expect(!capabilities.supports("SMTPUTF8"))
        #expect(try parser.feed("354") == SMTPReply(code: 354, lines: [""]))
        #expect(throws: SMTPTransportError.malformedReply("HTTP/1.1 400 Bad Request")) {
            try parser.feed("HTTP/1.1 400 Bad Request")
        }
        var mixed = SMTPReplyParser()
        _ = try mixed.feed("250-first")
        #expect(throws: SMTPTransportError.self) { try mixed.feed("251 second") }
    }

    @Test func settingsNeverPrintThePassword() {
        let settings = SMTPSettings(host: "smtp.example.org", username: "u", password: "hunter2")
        #expect(!"\(settings)".contains("hunter2"))
        #expect(!String(reflecting: settings).contains("hunter2"))
    }
}

// MARK: - The peer

/// A self-signed certificate and its key for `localhost` and `127.0.0.1`, made once per test run with openssl.
struct TLSFiles: Sendable {
    var certificate: String
    var key: String

    /// The files, or an error saying why they could not be made (the test then fails with it).
    static func require() throws -> TLSFiles { try made.get() }

    /// The peer's arguments for serving TLS with these files.
    static func arguments() throws -> [String] {
        let files = try require()
        return ["--cert", files.certificate, "--key", files.key]
    }

    private static let made: Result<TLSFiles, PyJWT.PythonEnvironmentError> = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-tests-tls-\(UUID())")
        let files = TLSFiles(
            certificate: directory.appendingPathComponent("cert.pem").path,
            key: directory.appendingPathComponent("key.pem").path)
        let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let openssl else {
            return .failure(.init(message: "openssl is not installed (apt-get install openssl)"))
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let result = try PyJWT.run(
                URL(fileURLWithPath: openssl),
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1", "-keyout", files.key, "-out",
                    files.certificate,
                ], environment: [:])
            guard result.status == 0 else {
                return .failure(.init(message: "openssl req failed: \(result.stderr)"))
            }
            return .success(files)
        } catch {
            return .failure(.init(message: "cannot run openssl: \(error)"))
        }
    }()
}

/// Tests/peers/smtp_server.py running in the repository's `.venv`, with its own output folder.
final class SMTPPeer {
    let port: Int
    let directory: URL
    private let process: Process
    private let input: Pipe

    /// The venv's python, with aiosmtpd importable (scripts/python-env.sh is run when it is not).
    static let python: Result<URL, PyJWT.PythonEnvironmentError> = {
        do {
            let python = try PyJWT.python.get()
            if try PyJWT.run(python, ["-c", "import aiosmtpd"], environment: [:]).status == 0 {
                return .success(python)
            }
            let setup = try PyJWT.run(
                PyJWT.root.appendingPathComponent("scripts/python-env.sh"), [], environment: [:])
            guard setup.status == 0 else {
                return .failure(.init(message: "scripts/python-env.sh failed: \(setup.stderr)"))
            }
            return .success(python)
        } catch let error as PyJWT.PythonEnvironmentError {
            return .failure(error)
        } catch {
            return .failure(.init(message: "cannot prepare the Python environment: \(error)"))
        }
    }()

    init(_ arguments: [String]) throws {
        let python = try Self.python.get()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-peer-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let log = directory.appendingPathComponent("server.log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw PyJWT.PythonEnvironmentError(message: "cannot create \(log.path)")
        }
        process = Process()
        process.executableURL = python
        process.arguments =
            [PyJWT.root.appendingPathComponent("Tests/peers/smtp_server.py").path, "--out", directory.path]
            + arguments
        input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()

        // Wait for "ready PORT" on a thread of its own, so that a peer that hangs fails the test instead of hanging it.
        let line = ReadyLine()
        let reader = output.fileHandleForReading
        Thread {
            var data = Data()
            while !data.contains(UInt8(ascii: "\n")) {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                data += chunk
            }
            line.set(String(decoding: data, as: UTF8.self))
        }.start()
        let ready = line.wait(seconds: 30)
        guard let ready, ready.hasPrefix("ready "),
            let port = Int(ready.dropFirst("ready ".count).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            process.terminate()
            let errors = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw PyJWT.PythonEnvironmentError(
                message: "smtp_server.py did not start (said '\(ready ?? "nothing within 30 s")'): \(errors)")
        }
        self.port = port
    }

    /// Ends the server (closing its stdin is enough; terminate in case it is stuck), waits for it, and removes its
    /// output folder.
    func stop() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    func connectionCount() throws -> Int {
        let text = try String(contentsOf: directory.appendingPathComponent("connections"), encoding: .utf8)
        return try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// The messages received so far, in order.
    func received() throws -> [ReceivedMessage] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("msg-") && $0.hasSuffix(".json") }.sorted()
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try names.map {
            try decoder.decode(ReceivedMessage.self, from: Data(contentsOf: directory.appendingPathComponent($0)))
        }
    }

    /// The data of message `number` (from 1) as the server received it.
    func raw(_ number: Int) throws -> String {
        let name = "msg-" + String(repeating: "0", count: 3 - String(number).count) + "\(number).eml"
        return try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    /// What the peer wrote about one message (see smtp_server.py).
    struct ReceivedMessage: Decodable {
        var connection: Int
        var authMechanism: String?
        var authLogin: String?
        var tls: Bool
        var mailFrom: String
        var rcptTos: [String]
        var parsed: Parsed

        struct Parsed: Decodable {
            var subject: String
            var from: [[String]]
            var to: [[String]]
            var cc: [[String]]
            var messageId: String
            var date: String
            var dateIso: String?
            var mimeVersion: String
            var extra: [String: String]
            var contentType: String
            var structure: [String]
            var text: String?
            var calendar: Calendar?
            var attachments: [Attachment]
            var defects: [String]
        }
        struct Calendar: Decodable, Equatable {
            var method: String?
            var charset: String?
            var content: String
        }
        struct Attachment: Decodable {
            var filename: String?
            var contentType: String
            var nameParam: String?
            var content: String
        }
    }

    /// The first line the peer prints, handed from the reading thread to the test.
    final class ReadyLine: @unchecked Sendable {
        private let condition = NSCondition()
        private var line: String?

        func set(_ value: String) {
            condition.lock()
            line = value
            condition.signal()
            condition.unlock()
        }

        func wait(seconds: Double) -> String? {
            let deadline = Date().addingTimeInterval(seconds)
            condition.lock()
            defer { condition.unlock() }
            while line == nil && condition.wait(until: deadline) {}
            return line
        }
    }
}
