import Foundation
import MediationCore
import Synchronization
import Testing

@testable import MediationNotify

@Suite struct ChannelTests {
    static let webhookSecret = "whsec-测试-0123456789"
    static let dingTalkSecret = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"

    // MARK: - Signatures

    @Test func dingTalkSignMatchesTheKnownVector() {
        #expect(
            DingTalk.sign(timestampMillis: 1_700_000_000_000, secret: "SECtestsecret")
                == "7LVwF0dAF3%2F%2BMRRulbpE4y72Ogzykc6bS2nG4I99T4s%3D")
    }

    @Test func webhookSignatureIsHexHMACOfTimestampDotBody() {
        // HMAC-SHA256("key", "1700000000.{}") computed independently with Python's hmac module.
        #expect(
            Webhook.signature(timestamp: 1_700_000_000, body: Data("{}".utf8), secret: "key")
                == "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae")
    }

    // MARK: - Webhooks

    @Test func webhookIsSignedAndTheReceiverVerifiesIt() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let body = Data(#"{"event":"session.booked","dispute":"(2026) 京调字第 42 号","at":"2026-12-07T09:00+08:00"}"#.utf8)
        // The sender signs with its clock; the receiver, a real verifier, accepts five minutes around its own time,
        // so the clock stands at this moment, whole seconds and a half, and the header must carry exactly it.
        let signedAt = (Date().timeIntervalSince1970).rounded(.down) + 0.5
        let result = await ChannelSender(clock: FixedWallClock(Date(timeIntervalSince1970: signedAt))).sendWebhook(
            WebhookTarget(url: receiver.url("/webhook"), secret: Self.webhookSecret), json: body, messageID: "outbox-17"
        )
        #expect(result == .sent(detail: "webhook: HTTP 204"))
        let record = try #require(try receiver.records().first)
        #expect(record.verdict == "ok", "the receiver could not verify the signature")
        #expect(record.body == String(decoding: body, as: UTF8.self))
        #expect(record.header("X-Mediation-Message-Id") == "outbox-17")
        let timestamp = try #require(record.header("X-Mediation-Timestamp").flatMap { Int64($0) })
        #expect(timestamp == Int64(signedAt.rounded(.down)))
        #expect(
            record.header("X-Mediation-Signature")
                == Webhook.signature(timestamp: timestamp, body: body, secret: Self.webhookSecret))
    }

    @Test func webhookWithTheWrongSecretIsRefusedPermanently() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let result = await ChannelSender().sendWebhook(
            WebhookTarget(url: receiver.url("/webhook"), secret: "not-the-secret"), json: Data("{}".utf8),
            messageID: "m1")
        guard case .permanent(let detail) = result else {
            Issue.record("expected permanent, got \(result)")
            return
        }
        #expect(detail.hasPrefix("webhook: HTTP 401"))
        #expect(try receiver.records().map(\.verdict) == ["signature mismatch"])
    }

    @Test(arguments: [
        (200, "sent"), (202, "sent"), (400, "permanent"), (403, "permanent"), (404, "permanent"), (410, "permanent"),
        (408, "transient"), (429, "transient"), (500, "transient"), (502, "transient"), (503, "transient"),
    ])
    func webhookStatusesMapToResults(_ status: Int, _ expected: String) async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let result = await ChannelSender().sendWebhook(
            WebhookTarget(url: receiver.url("/webhook?status=\(status)"), secret: Self.webhookSecret),
            json: Data("{}".utf8), messageID: "m-\(status)")
        #expect(Self.kind(result) == expected, "HTTP \(status) gave \(result)")
        #expect(result.detail.contains("HTTP \(status)"))
        #expect(try receiver.records().map(\.verdict) == ["ok"])
    }

    @Test func unreachableReceiverIsTransient() async throws {
        let port = try ChatReceiver.closedPort()
        // AsyncHTTPClient retries a refused connection until the request's deadline: keep that short here.
        let sender = ChannelSender(
            httpClient: .shared, clock: SystemWallClock(), perRobotPerMinute: 20, window: 60,
            requestTimeout: .seconds(1))
        let result = await sender.sendWebhook(
            WebhookTarget(url: "http://127.0.0.1:\(port)/webhook", secret: "s"), json: Data("{}".utf8), messageID: "m")
        #expect(Self.kind(result) == "transient", "\(result)")
        let robot = await sender.sendRobot(
            RobotTarget(kind: .wecom, url: "http://127.0.0.1:\(port)/wecom"), Self.message())
        #expect(Self.kind(robot) == "transient", "\(robot)")
    }

    @Test func urlsThatAreNotHTTPArePermanent() async {
        let sender = ChannelSender()
        for url in ["", "ftp://example.org/hook", "example.org/hook", "http://"] {
            let result = await sender.sendWebhook(
                WebhookTarget(url: url, secret: "s"), json: Data("{}".utf8), messageID: "m")
            #expect(Self.kind(result) == "permanent", "\(url): \(result)")
            let robot = await sender.sendRobot(RobotTarget(kind: .dingtalk, url: url), Self.message())
            #expect(Self.kind(robot) == "permanent", "\(url): \(robot)")
        }
    }

    // MARK: - WeCom

    @Test func weComGetsMarkdown() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let message = Self.message()
        let result = await ChannelSender().sendRobot(
            RobotTarget(kind: .wecom, url: receiver.url("/wecom?key=abc")), message)
        #expect(result == .sent(detail: "wecom: errcode 0: ok"))
        let record = try #require(try receiver.records().first)
        #expect(record.verdict == "ok")
        let body = try record.json()
        #expect(body["msgtype"] as? String == "markdown")
        #expect((body["markdown"] as? [String: Any])?["content"] as? String == message.markdown)
    }

    @Test func weComMentionsSendTextWithMobiles() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        var message = Self.message()
        message.mentionMobiles = ["13800138000", " 13900139000 ", "13800138000", ""]
        let result = await ChannelSender().sendRobot(RobotTarget(kind: .wecom, url: receiver.url("/wecom")), message)
        #expect(result.isSent, "\(result)")
        let record = try #require(try receiver.records().first)
        #expect(record.verdict == "ok")
        let body = try record.json()
        #expect(body["msgtype"] as? String == "text")
        let text = try #require(body["text"] as? [String: Any])
        #expect(text["content"] as? String == message.text)
        #expect(text["mentioned_mobile_list"] as? [String] == ["13800138000", "13900139000"])
    }

    @Test func weComContentIsCutAt2048BytesOnACharacter() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        // 3-byte Chinese characters and a multi-scalar emoji, so that the cut falls inside a character unless
        // it is made on a boundary.
        let long = "# 通知\n" + String(repeating: "调解会议👩🏽‍⚖️安排", count: 120)
        #expect(long.utf8.count > 4000)
        var message = Self.message()
        message.markdown = long
        let result = await ChannelSender().sendRobot(RobotTarget(kind: .wecom, url: receiver.url("/wecom")), message)
        #expect(result.isSent, "\(result)")
        let record = try #require(try receiver.records().first)
        #expect(record.verdict == "ok", "WeCom refused it: \(record.verdict)")
        let content = try #require((try record.json()["markdown"] as? [String: Any])?["content"] as? String)
        #expect(content.utf8.count <= 2048)
        #expect(content.utf8.count > 2048 - 40, "cut far more than needed")
        #expect(content.hasSuffix("…"))
        #expect(long.hasPrefix(String(content.dropLast())), "not a prefix made of whole characters")
    }

    @Test func truncationKeepsShortTextAndWholeCharacters() {
        let exact = String(repeating: "调", count: 682) + "ab"  // 2,048 bytes
        #expect(exact.utf8.count == 2048)
        #expect(RobotPayload.truncated(exact, toBytes: 2048) == exact)
        let over = exact + "c"
        let cut = RobotPayload.truncated(over, toBytes: 2048)
        #expect(cut == String(repeating: "调", count: 681) + "…")  // 682 characters and "…" would be 2,049 bytes
        #expect(cut.utf8.count <= 2048)
        let family = String(repeating: "👨‍👩‍👧‍👦", count: 200)  // 25 bytes a character
        let cutFamily = RobotPayload.truncated(family, toBytes: 2048)
        #expect(cutFamily == String(repeating: "👨‍👩‍👧‍👦", count: 81) + "…")
    }

    @Test(arguments: [
        ("fail=rate", "transient", "45009"), ("fail=busy", "transient", "-1"), ("fail=key", "permanent", "93000"),
        ("status=500", "transient", "HTTP 500"), ("status=400", "permanent", "HTTP 400"),
    ])
    func weComErrorsMapToResults(_ flag: String, _ expected: String, _ mention: String) async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let result = await ChannelSender().sendRobot(
            RobotTarget(kind: .wecom, url: receiver.url("/wecom?key=k&\(flag)")), Self.message())
        #expect(Self.kind(result) == expected, "\(flag) gave \(result)")
        #expect(result.detail.contains(mention), "\(result.detail)")
    }

    @Test func weComRateLimitReplyKeepsItsMessage() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let result = await ChannelSender().sendRobot(
            RobotTarget(kind: .wecom, url: receiver.url("/wecom?fail=rate")), Self.message())
        #expect(result == .transient("wecom: errcode 45009: api freq out of limit"))
    }

    // MARK: - DingTalk

    @Test func dingTalkIsSignedAndMentionsAreInTheText() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        var message = Self.message()
        message.markdown = "### 调解通知\n请 @13800138000 准时参加"
        message.mentionMobiles = ["13800138000", "13900139000"]
        // Signed on the injected clock (the receiver, a real verifier, accepts an hour around its own time).
        let signedAt = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down) + 0.25)
        let result = await ChannelSender(clock: FixedWallClock(signedAt)).sendRobot(
            RobotTarget(kind: .dingtalk, url: receiver.url("/dingtalk?access_token=tok"), secret: Self.dingTalkSecret),
            message)
        #expect(result == .sent(detail: "dingtalk: errcode 0: ok"))
        let record = try #require(try receiver.records().first)
        #expect(record.verdict == "ok", "the receiver could not verify the signature: \(record.verdict)")
        #expect(record.query["access_token"] == "tok")
        let millis = try #require(record.query["timestamp"].flatMap { Int64($0) })
        #expect(millis == Int64((signedAt.timeIntervalSince1970 * 1000).rounded(.down)))
        let body = try record.json()
        #expect(body["msgtype"] as? String == "markdown")
        let markdown = try #require(body["markdown"] as? [String: Any])
        #expect(markdown["title"] as? String == message.title)
        // The mention already in the text is not repeated; the other one is added.
        #expect(markdown["text"] as? String == message.markdown + "\n\n@13900139000")
        let at = try #require(body["at"] as? [String: Any])
        #expect(at["atMobiles"] as? [String] == ["13800138000", "13900139000"])
        #expect(at["isAtAll"] as? Bool == false)
    }

    @Test func dingTalkWithoutSecretSendsNoSignature() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let result = await ChannelSender().sendRobot(
            RobotTarget(kind: .dingtalk, url: receiver.url("/dingtalk?access_token=tok&unsigned=1")), Self.message())
        #expect(result.isSent, "\(result)")
        let record = try #require(try receiver.records().first)
        #expect(record.query["sign"] == nil)
        #expect(record.query["timestamp"] == nil)
    }

    @Test(arguments: [
        ("", "SECwrong", "permanent", "310000"), ("fail=rate", ChannelTests.dingTalkSecret, "transient", "130101"),
        ("fail=busy", ChannelTests.dingTalkSecret, "transient", "-1"),
        ("status=500", ChannelTests.dingTalkSecret, "transient", "HTTP 500"),
        ("status=400", ChannelTests.dingTalkSecret, "permanent", "HTTP 400"),
    ])
    func dingTalkErrorsMapToResults(_ flag: String, _ secret: String, _ expected: String, _ mention: String)
        async throws
    {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let result = await ChannelSender().sendRobot(
            RobotTarget(kind: .dingtalk, url: receiver.url("/dingtalk?access_token=t&\(flag)"), secret: secret),
            Self.message())
        #expect(Self.kind(result) == expected, "\(flag) gave \(result)")
        #expect(result.detail.contains(mention), "\(result.detail)")
    }

    // MARK: - Rate limit

    @Test func the21stMessageToOneRobotWaitsForTheWindow() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let clock = FixedWallClock(Date())
        let sender = ChannelSender(
            httpClient: .shared, clock: clock, perRobotPerMinute: 20, window: 60,
            requestTimeout: ChannelSender.requestTimeout)
        let robot = RobotTarget(kind: .wecom, url: receiver.url("/wecom?robot=a"))
        let other = RobotTarget(kind: .dingtalk, url: receiver.url("/dingtalk?robot=b"), secret: Self.dingTalkSecret)
        for _ in 0..<20 {
            // Each goes at once: none sleeps on the clock, which stands still while it is sent.
            #expect(await sender.sendRobot(robot, Self.message()).isSent)
            clock.advance(by: 1)  // twenty messages over twenty seconds
        }
        // Another robot has its own window.
        #expect(await sender.sendRobot(other, Self.message()).isSent)
        /// Sends one more to `robot` and answers after how many seconds by the clock it went.
        func waited() async throws -> TimeInterval {
            let before = clock.now()
            let sending = Task { await sender.sendRobot(robot, Self.message()) }
            await clock.sleeping()
            var seconds: TimeInterval = 0
            while clock.sleeperCount > 0 {
                clock.advance(by: 1)
                seconds += 1
                await Task.yield()
            }
            #expect(await sending.value.isSent)
            #expect(clock.now().timeIntervalSince(before) == seconds)
            return seconds
        }
        // The 21st waits until the first leaves the window: sent at t=0, now t=20, so 40 s.
        #expect(try await waited() == 40)
        // The 22nd waits for the second (sent at t=1): the clock is at t=60, so 1 s.
        #expect(try await waited() == 1)
        let records = try receiver.records()
        #expect(records.filter { $0.query["robot"] == "a" }.count == 22)
        #expect(records.allSatisfy { $0.verdict == "ok" }, "\(records.map(\.verdict))")
    }

    @Test func theLimiterWaitsForTheEarliestFreeSlotAndNeverMoreThanAMinute() {
        let limiter = RobotRateLimiter(limit: 2, window: 60, maximumWait: 60)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(limiter.reserve("a", at: t0) == 0)
        #expect(limiter.reserve("a", at: t0.addingTimeInterval(10)) == 0)
        #expect(limiter.reserve("b", at: t0.addingTimeInterval(10)) == 0)
        // Full: the next slots open as the first two leave the window, first come first served.
        #expect(limiter.reserve("a", at: t0.addingTimeInterval(20)) == 40)
        #expect(limiter.reserve("a", at: t0.addingTimeInterval(20)) == 50)
        // Two reservations are already waiting in the next minute: this one would wait 100 s, so it is refused.
        #expect(limiter.reserve("a", at: t0.addingTimeInterval(20)) == nil)
        // After the window, all is free again.
        #expect(limiter.reserve("a", at: t0.addingTimeInterval(200)) == 0)
    }

    @Test func aRefusedWaitIsTransientAndSendsNothing() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let clock = FixedWallClock(Date())
        let sender = ChannelSender(
            httpClient: .shared, clock: clock, perRobotPerMinute: 1, window: 60,
            requestTimeout: ChannelSender.requestTimeout)
        let robot = RobotTarget(kind: .wecom, url: receiver.url("/wecom"))
        #expect(await sender.sendRobot(robot, Self.message()).isSent)
        // The second reserves the slot a minute ahead and waits for it on the clock; the third finds none.
        let second = Task { await sender.sendRobot(robot, Self.message()) }
        await clock.sleeping()
        let third = await sender.sendRobot(robot, Self.message())
        #expect(Self.kind(third) == "transient", "\(third)")
        #expect(try receiver.records().count == 1)
        clock.advance(by: 60)
        #expect(await second.value.isSent)
        #expect(try receiver.records().count == 2)
    }

    @Test func aMessageHeldByTheLimitIsNotSentUntilTheClockMoves() async throws {
        let receiver = try ChatReceiver.start()
        defer { receiver.stop() }
        let clock = FixedWallClock(Date())
        let sender = ChannelSender(
            httpClient: .shared, clock: clock, perRobotPerMinute: 2, window: 60,
            requestTimeout: ChannelSender.requestTimeout)
        let robot = RobotTarget(kind: .wecom, url: receiver.url("/wecom"))
        for _ in 0..<2 { #expect(await sender.sendRobot(robot, Self.message()).isSent) }
        let third = Task { await sender.sendRobot(robot, Self.message()) }
        await clock.sleeping()
        #expect(try receiver.records().count == 2, "held while the clock stands still")
        clock.advance(by: 59)
        await clock.sleeping()
        #expect(try receiver.records().count == 2, "a second short of the window")
        clock.advance(by: 1)
        #expect(await third.value.isSent)
        #expect(try receiver.records().count == 3)
    }

    // MARK: - Helpers

    static func message() -> ChatMessage {
        ChatMessage(
            title: "调解会议已安排",
            markdown: "### 调解会议已安排\n> 时间：2026-12-07 09:00 (Asia/Shanghai)\n[加入会议](https://meet.example.org/abc)",
            text: "调解会议已安排：2026-12-07 09:00 (Asia/Shanghai) https://meet.example.org/abc")
    }

    static func kind(_ result: DeliveryResult) -> String {
        switch result {
        case .sent: "sent"
        case .transient: "transient"
        case .permanent: "permanent"
        }
    }
}

/// The waits a sender asked for, in order.
/// Tests/peers/chat_receiver.py, a local webhook and robot receiver, running for one test.
final class ChatReceiver {
    struct Record: Decodable {
        var path: String
        var query: [String: String]
        var headers: [String: String]
        var body: String
        var verdict: String
        var received: Double

        func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }

        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        }
    }

    struct StartFailed: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    let log: URL
    private let process: Process
    private let input: Pipe

    private init(port: Int, log: URL, process: Process, input: Pipe) {
        self.port = port
        self.log = log
        self.process = process
        self.input = input
    }

    func url(_ pathAndQuery: String) -> String { "http://127.0.0.1:\(port)\(pathAndQuery)" }

    static func start() throws -> ChatReceiver {
        let python = try PyJWT.python.get()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID().uuidString).jsonl")
        let process = Process()
        process.executableURL = python
        process.arguments = [
            PyJWT.root.appendingPathComponent("Tests/peers/chat_receiver.py").path, log.path,
            ChannelTests.webhookSecret, ChannelTests.dingTalkSecret,
        ]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // The receiver prints "ready PORT" once it listens; it exits when its stdin closes (in stop(), or when the
        // test process ends), so it never outlives the test.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("ready "), let port = Int(text.dropFirst("ready ".count)) else {
            process.terminate()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw StartFailed(description: "chat_receiver.py did not start: \(text) \(stderr)")
        }
        return ChatReceiver(port: port, log: log, process: process, input: input)
    }

    /// The requests received so far, in order.
    func records() throws -> [Record] {
        guard FileManager.default.fileExists(atPath: log.path) else { return [] }
        let decoder = JSONDecoder()
        return try String(decoding: Data(contentsOf: log), as: UTF8.self).split(separator: "\n").map {
            try decoder.decode(Record.self, from: Data($0.utf8))
        }
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: log)
    }

    /// A local port with nothing listening: bound by a receiver that is then stopped.
    static func closedPort() throws -> Int {
        let receiver = try start()
        receiver.stop()
        return receiver.port
    }
}
