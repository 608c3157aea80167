import Foundation
import MediationCore
import Testing

@testable import MediationNotify

@Suite struct VideoRoomTests {
    static let secret: [UInt8] = (0..<48).map { _ in UInt8.random(in: 0...255) }
    static let settings = JitsiSettings(
        domain: "meet.example.org", appId: "mediation-coordinator", audience: "jitsi", secret: secret)
    /// A session a month from now, on whole seconds: its token is "not yet valid" today, and must still verify.
    static let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 30 * 86_400).rounded(.down))
    static let end = start.addingTimeInterval(90 * 60)
    static let lead = RoomParticipant(id: "expert:17", name: "王律师 (lead)", email: "lead@example.org", moderator: true)
    static let party = RoomParticipant(id: "party:3", name: "Li Hua", email: nil, moderator: false)

    // MARK: Room names

    @Test func roomNamesAreUniqueUnguessableAndURLSafe() {
        let alphabet = Set("abcdefghijklmnopqrstuvwxyz234567")
        var names = Set<String>()
        var seen = Set<Character>()
        var firstCharacters = Set<Character>()
        for _ in 0..<10_000 {
            let name = VideoRooms.newRoomName()
            names.insert(name)
            #expect(name.count == VideoRooms.roomNameLength)
            #expect(name.allSatisfy(alphabet.contains), "\(name) has a character outside lower-case base32")
            seen.formUnion(name)
            firstCharacters.insert(name.first!)
        }
        #expect(names.count == 10_000, "room names repeated")
        #expect(VideoRooms.roomNameLength * VideoRooms.bitsPerRoomNameCharacter >= 128)
        // Every one of the 32 symbols is used and positions vary: a name is not padding around a short random part.
        #expect(seen == alphabet)
        #expect(firstCharacters.count == 32)
        let name = VideoRooms.newRoomName()
        #expect(name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) == name)
        #expect(name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) == name)
    }

    @Test func roomNamesComeFromTheGenerator() {
        // Five bits per character: a generator that always answers 0 gives all 'a', and one that answers the top of
        // the range gives all '7'.
        struct Constant: RandomNumberGenerator {
            var value: UInt64
            mutating func next() -> UInt64 { value }
        }
        var zero = Constant(value: 0)
        #expect(VideoRooms.newRoomName(using: &zero) == String(repeating: "a", count: 26))
        var top = Constant(value: .max)
        #expect(VideoRooms.newRoomName(using: &top) == String(repeating: "7", count: 26))
    }

    // MARK: Template and none

    @Test func templateReplacesRoomAndNothingElse() throws {
        let provider = VideoRoomProvider.template("https://rooms.example.org/m/{room}?lang=zh%20CN&x={room}")
        try VideoRooms.validate(provider)
        let link = try VideoRooms.link(
            provider: provider, room: "abc234", participant: Self.party, start: Self.start, end: Self.end)
        #expect(link == "https://rooms.example.org/m/abc234?lang=zh%20CN&x=abc234")
    }

    @Test func noneGivesNoLink() throws {
        try VideoRooms.validate(.none)
        #expect(
            try VideoRooms.link(provider: .none, room: "abc", participant: Self.lead, start: Self.start, end: Self.end)
                == nil)
    }

    @Test func roomNamesThatWouldBreakALinkAreRefused() {
        for room in ["", "a b", "a/b", "a?jwt=x", "..", "房间"] {
            #expect(throws: MediationError.self, "room '\(room)'") {
                try VideoRooms.link(
                    provider: .template("https://m.example.org/{room}"), room: room, participant: Self.party,
                    start: Self.start, end: Self.end)
            }
            #expect(throws: MediationError.self, "room '\(room)'") {
                try VideoRooms.jitsiToken(
                    settings: Self.settings, room: room, participant: Self.party, start: Self.start, end: Self.end)
            }
        }
    }

    // MARK: Validation

    @Test(arguments: [
        (VideoRoomProvider.template("https://meet.example.org/room"), "has no {room} placeholder"),
        (.template("ftp://meet.example.org/{room}"), "is not an http(s) URL"),
        (.template("meet.example.org/{room}"), "is not an http(s) URL"),
        (.template("{room}"), "is not an http(s) URL"),
        (
            .jitsi(JitsiSettings(domain: "", appId: "app", secret: Array(repeating: 1, count: 32))),
            "jitsi domain is empty"
        ),
        (
            .jitsi(
                JitsiSettings(domain: "https://meet.example.org", appId: "app", secret: Array(repeating: 1, count: 32))),
            "is not a host name"
        ),
        (
            .jitsi(JitsiSettings(domain: "meet.example.org/x", appId: "app", secret: Array(repeating: 1, count: 32))),
            "is not a host name"
        ),
        (
            .jitsi(JitsiSettings(domain: "meet.example.org", appId: " ", secret: Array(repeating: 1, count: 32))),
            "app id is empty"
        ),
        (
            .jitsi(
                JitsiSettings(
                    domain: "meet.example.org", appId: "app", audience: "", secret: Array(repeating: 1, count: 32))),
            "audience is empty"
        ),
        (
            .jitsi(JitsiSettings(domain: "meet.example.org", appId: "app", secret: Array(repeating: 1, count: 31))),
            "secret is 31 bytes; HS256 needs at least 32"
        ),
    ])
    func invalidProvidersAreRefusedClearly(provider: VideoRoomProvider, message: String) {
        do {
            try VideoRooms.validate(provider)
            Issue.record("\(provider) should be refused")
        } catch let error as MediationError {
            #expect(error.kind == .invalidInput)
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        // The same configuration cannot produce a link either.
        #expect(throws: MediationError.self) {
            try VideoRooms.link(
                provider: provider, room: "abc", participant: Self.lead, start: Self.start, end: Self.end)
        }
    }

    @Test func validProvidersPassAndAllJitsiProblemsAreListedTogether() throws {
        try VideoRooms.validate(.jitsi(Self.settings))
        try VideoRooms.validate(.jitsi(JitsiSettings(domain: "meet.example.org:8443", appId: "a", secret: Self.secret)))
        try VideoRooms.validate(.template("http://10.0.0.5/{room}"))
        #expect(JitsiSettings(domain: "d", appId: "a", secret: []).audience == "jitsi")
        do {
            try VideoRooms.validate(.jitsi(JitsiSettings(domain: "", appId: "", secret: [1, 2, 3])))
            Issue.record("should be refused")
        } catch let error as MediationError {
            #expect(error.details.count == 3)
            #expect(error.message.contains("domain is empty"))
            #expect(error.message.contains("app id is empty"))
            #expect(error.message.contains("secret is 3 bytes"))
        }
    }

    @Test func settingsNeverPrintTheSecret() {
        let settings = JitsiSettings(domain: "d", appId: "a", secret: Array("supersecretsupersecretsupersecret!".utf8))
        for text in [
            String(describing: settings), String(reflecting: settings),
            String(describing: VideoRoomProvider.jitsi(settings)), "\(settings)",
        ] {
            #expect(!text.contains("supersecret"), "\(text)")
            #expect(!text.contains("115, 117"), "\(text)")  // the bytes of "su"
        }
    }

    @Test func sessionEndingBeforeItStartsIsRefused() {
        #expect(throws: MediationError.self) {
            try VideoRooms.jitsiToken(
                settings: Self.settings, room: "abc", participant: Self.lead, start: Self.end, end: Self.start)
        }
    }

    // MARK: Secrets

    @Test func secretIsReadFromAFileWithoutItsTrailingNewline() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let file = directory.appendingPathComponent("jitsi.secret")
        try Data("0123456789abcdef0123456789abcdef  x\n".utf8).write(to: file)
        #expect(
            try VideoRooms.loadSecret(inline: nil, file: file.path) == Array("0123456789abcdef0123456789abcdef  x".utf8)
        )
        try Data("s3cret\r\n\n".utf8).write(to: file)
        #expect(try VideoRooms.loadSecret(inline: nil, file: file.path) == Array("s3cret".utf8))
        #expect(try VideoRooms.loadSecret(inline: "inline-secret\n", file: nil) == Array("inline-secret".utf8))

        let missing = directory.appendingPathComponent("nope.secret").path
        try expectInvalid(contains: ["secret_file '\(missing)' does not exist"]) {
            _ = try VideoRooms.loadSecret(inline: nil, file: missing)
        }
        let empty = directory.appendingPathComponent("empty.secret")
        try Data("\n".utf8).write(to: empty)
        try expectInvalid(contains: ["secret_file '\(empty.path)' is empty"]) {
            _ = try VideoRooms.loadSecret(inline: nil, file: empty.path)
        }
        try expectInvalid(contains: ["'\(directory.path)' is a directory"]) {
            _ = try VideoRooms.loadSecret(inline: nil, file: directory.path)
        }
        try expectInvalid(contains: ["both secret and secret_file"]) {
            _ = try VideoRooms.loadSecret(inline: "x", file: file.path)
        }
        try expectInvalid(contains: ["no secret is configured"]) {
            _ = try VideoRooms.loadSecret(inline: nil, file: nil)
        }
        try expectInvalid(contains: ["secret is empty"]) { _ = try VideoRooms.loadSecret(inline: "", file: nil) }
    }

    // MARK: Redaction

    @Test func redactHidesOnlyTheToken() throws {
        #expect(
            VideoRooms.redact("https://meet.example.org/abc?jwt=aaa.bbb.ccc") == "https://meet.example.org/abc?jwt=…")
        #expect(
            VideoRooms.redact("https://m.example.org/abc?lang=zh&jwt=aaa.bbb.ccc&x=1#config")
                == "https://m.example.org/abc?lang=zh&jwt=…&x=1#config")
        #expect(VideoRooms.redact("https://m.example.org/abc?x=1") == "https://m.example.org/abc?x=1")
        #expect(VideoRooms.redact("https://m.example.org/abc?notjwt=keep") == "https://m.example.org/abc?notjwt=keep")
        #expect(VideoRooms.redact("https://m.example.org/a?jwt=1&jwt=2") == "https://m.example.org/a?jwt=…&jwt=…")

        let link = try #require(
            try VideoRooms.link(
                provider: .jitsi(Self.settings), room: "abc", participant: Self.lead, start: Self.start, end: Self.end))
        let token = try VideoRooms.jitsiToken(
            settings: Self.settings, room: "abc", participant: Self.lead, start: Self.start, end: Self.end)
        let redacted = VideoRooms.redact(link)
        #expect(redacted == "https://meet.example.org/abc?jwt=…")
        #expect(!redacted.contains(token))
        #expect(!redacted.contains(String(token.split(separator: ".")[2])))
    }

    // MARK: Jitsi tokens, checked by PyJWT

    @Test func jitsiLinkCarriesTheParticipantsToken() throws {
        let room = VideoRooms.newRoomName()
        let link = try VideoRooms.link(
            provider: .jitsi(Self.settings), room: room, participant: Self.lead, start: Self.start, end: Self.end)
        let token = try VideoRooms.jitsiToken(
            settings: Self.settings, room: room, participant: Self.lead, start: Self.start, end: Self.end)
        #expect(link == "https://meet.example.org/\(room)?jwt=\(token)")
        // Deterministic (no iat): rendering the same notice twice gives the same link.
        #expect(
            try VideoRooms.link(
                provider: .jitsi(Self.settings), room: room, participant: Self.lead, start: Self.start, end: Self.end)
                == link)
        // Base64url without padding; exactly the agreed header.
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        let urlSafe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
        #expect(token.allSatisfy(urlSafe.contains))
        let header = try JSONSerialization.jsonObject(with: try #require(base64URLDecode(String(parts[0]))))
        #expect(header as? [String: String] == ["alg": "HS256", "typ": "JWT"])
        // Two participants of the same room get different tokens.
        let other = try VideoRooms.jitsiToken(
            settings: Self.settings, room: room, participant: Self.party, start: Self.start, end: Self.end)
        #expect(other != token)
    }

    @Test func pyJWTVerifiesEveryClaimForLeadAndNonLead() throws {
        let room = VideoRooms.newRoomName()
        for participant in [Self.lead, Self.party] {
            let token = try VideoRooms.jitsiToken(
                settings: Self.settings, room: room, participant: participant, start: Self.start, end: Self.end)
            let result = try PyJWT.verify(
                token, secret: Self.secret, audience: "jitsi", issuer: "mediation-coordinator")
            #expect(result.status == 0, "PyJWT refused the token: \(result.stderr)")
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                "PyJWT printed: \(result.stdout)")
            #expect(Set(payload.keys) == ["iss", "aud", "sub", "room", "nbf", "exp", "context"])
            #expect(payload["iss"] as? String == "mediation-coordinator")
            #expect(payload["aud"] as? String == "jitsi")
            #expect(payload["sub"] as? String == "meet.example.org")
            #expect(payload["room"] as? String == room)
            #expect(payload["nbf"] as? Int == Int(Self.start.timeIntervalSince1970) - 900)
            #expect(payload["exp"] as? Int == Int(Self.end.timeIntervalSince1970) + 1800)
            let context = try #require(payload["context"] as? [String: Any])
            #expect(Set(context.keys) == ["user"])
            let user = try #require(context["user"] as? [String: Any])
            #expect(user["id"] as? String == participant.id)
            #expect(user["name"] as? String == participant.name)
            // JSONSerialization bridges booleans; pyJWTCheckLooksAtTheRawJSONTypes checks the literal true/false.
            #expect(user["moderator"] as? Bool == participant.moderator)
            if let email = participant.email {
                #expect(Set(user.keys) == ["id", "name", "email", "moderator"])
                #expect(user["email"] as? String == email)
            } else {
                #expect(Set(user.keys) == ["id", "name", "moderator"], "email must be omitted when nil")
            }
        }
    }

    @Test func pyJWTCheckLooksAtTheRawJSONTypes() throws {
        // Independently of Foundation's bridging: the moderator flags are JSON true/false in the payload.
        let lead = try VideoRooms.jitsiToken(
            settings: Self.settings, room: "r1", participant: Self.lead, start: Self.start, end: Self.end)
        let party = try VideoRooms.jitsiToken(
            settings: Self.settings, room: "r1", participant: Self.party, start: Self.start, end: Self.end)
        let leadOut = try PyJWT.verify(lead, secret: Self.secret, audience: "jitsi", issuer: "mediation-coordinator")
        let partyOut = try PyJWT.verify(party, secret: Self.secret, audience: "jitsi", issuer: "mediation-coordinator")
        #expect(leadOut.status == 0 && partyOut.status == 0, "\(leadOut.stderr) \(partyOut.stderr)")
        #expect(leadOut.stdout.contains("\"moderator\": true"))
        #expect(partyOut.stdout.contains("\"moderator\": false"))
        #expect(!partyOut.stdout.contains("email"))
    }

    @Test func fractionalTimesWidenTheWindowToWholeSeconds() throws {
        let start = Self.start.addingTimeInterval(0.6)
        let end = Self.end.addingTimeInterval(0.2)
        let token = try VideoRooms.jitsiToken(
            settings: Self.settings, room: "r", participant: Self.party, start: start, end: end)
        let result = try PyJWT.verify(token, secret: Self.secret, audience: "jitsi", issuer: "mediation-coordinator")
        #expect(result.status == 0, "\(result.stderr)")
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(payload["nbf"] as? Int == Int(Self.start.timeIntervalSince1970) - 900)
        #expect(payload["exp"] as? Int == Int(Self.end.timeIntervalSince1970) + 1 + 1800)
    }

    @Test func pyJWTRefusesForgedOrTamperedTokens() throws {
        let token = try VideoRooms.jitsiToken(
            settings: Self.settings, room: "abc", participant: Self.party, start: Self.start, end: Self.end)
        let parts = token.split(separator: ".").map(String.init)

        // Signed with another secret (same length, one byte different).
        var otherSecret = Self.secret
        otherSecret[0] ^= 0x01
        var otherSettings = Self.settings
        otherSettings.secret = otherSecret
        let forged = try VideoRooms.jitsiToken(
            settings: otherSettings, room: "abc", participant: Self.party, start: Self.start, end: Self.end)
        #expect(forged != token)
        let forgedResult = try PyJWT.verify(
            forged, secret: Self.secret, audience: "jitsi", issuer: "mediation-coordinator")
        #expect(forgedResult.status != 0)
        #expect(forgedResult.stderr.contains("Signature"), "\(forgedResult.stderr)")

        // Payload edited to make the party a moderator, signature kept.
        let payloadJSON = try #require(base64URLDecode(parts[1]).flatMap { String(data: $0, encoding: .utf8) })
        #expect(payloadJSON.contains("\"moderator\":false"))
        let promoted = payloadJSON.replacingOccurrences(of: "\"moderator\":false", with: "\"moderator\":true")
        let tampered = [parts[0], base64URLEncode(Data(promoted.utf8)), parts[2]].joined(separator: ".")
        let tamperedResult = try PyJWT.verify(
            tampered, secret: Self.secret, audience: "jitsi", issuer: "mediation-coordinator")
        #expect(tamperedResult.status != 0)
        #expect(tamperedResult.stderr.contains("Signature"), "\(tamperedResult.stderr)")

        // Signature with one character changed.
        var signature = Array(parts[2])
        signature[5] = signature[5] == "A" ? "B" : "A"
        let badSignature = [parts[0], parts[1], String(signature)].joined(separator: ".")
        #expect(
            try PyJWT.verify(badSignature, secret: Self.secret, audience: "jitsi", issuer: "mediation-coordinator")
                .status != 0)

        // Right signature, wrong audience or issuer expected by the verifier.
        #expect(
            try PyJWT.verify(token, secret: Self.secret, audience: "other", issuer: "mediation-coordinator").status != 0
        )
        #expect(try PyJWT.verify(token, secret: Self.secret, audience: "jitsi", issuer: "someone-else").status != 0)

        // And the untouched token still verifies, so the failures above are about the changes.
        #expect(
            try PyJWT.verify(token, secret: Self.secret, audience: "jitsi", issuer: "mediation-coordinator").status == 0
        )
    }

    // MARK: Helpers

    private func expectInvalid(
        contains fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) throws {
        do {
            try body()
            Issue.record("expected an invalid-input error", sourceLocation: sourceLocation)
        } catch let error as MediationError {
            #expect(error.kind == .invalidInput, sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
            }
        }
    }
}

func base64URLDecode(_ text: String) -> Data? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 { base64 += "=" }
    return Data(base64Encoded: base64)
}

func base64URLEncode(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// Runs Tests/peers/jwt_verify.py (PyJWT) in the repository's `.venv`, preparing it once if needed.
enum PyJWT {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The repository root: three levels up from this file (Tests/MediationNotifyTests/VideoRoomTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Prepared once per test process (a static `let` is initialised exactly once, even under parallel tests).
    static let python: Swift.Result<URL, PythonEnvironmentError> = {
        let python = root.appendingPathComponent(".venv/bin/python")
        if FileManager.default.isExecutableFile(atPath: python.path) { return .success(python) }
        do {
            let setup = try run(root.appendingPathComponent("scripts/python-env.sh"), [], environment: [:])
            guard setup.status == 0, FileManager.default.isExecutableFile(atPath: python.path) else {
                return .failure(PythonEnvironmentError(message: "scripts/python-env.sh failed: \(setup.stderr)"))
            }
            return .success(python)
        } catch {
            return .failure(PythonEnvironmentError(message: "cannot run scripts/python-env.sh: \(error)"))
        }
    }()

    struct PythonEnvironmentError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static func verify(_ token: String, secret: [UInt8], audience: String, issuer: String) throws -> Result {
        let python = try python.get()
        let hex = secret.map { String(format: "%02x", $0) }.joined()
        return try run(
            python,
            [
                root.appendingPathComponent("Tests/peers/jwt_verify.py").path, token, "--audience", audience,
                "--issuer", issuer,
            ],
            environment: ["JWT_SECRET_HEX": hex])
    }

    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = root
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Drain stderr concurrently so that neither pipe can fill up and block the child.
        let errData = LockedData()
        let errThread = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        errThread.start()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = errData.wait()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    final class LockedData: @unchecked Sendable {
        private let condition = NSCondition()
        private var data: Data?
        func set(_ value: Data) {
            condition.lock()
            data = value
            condition.signal()
            condition.unlock()
        }
        func wait() -> Data {
            condition.lock()
            defer { condition.unlock() }
            while data == nil { condition.wait() }
            return data!
        }
    }
}
