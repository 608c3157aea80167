import AsyncHTTPClient
import Crypto
import Foundation
import MediationCore
import NIOCore

/// A receiver's HTTPS endpoint for signed JSON notices.
public struct WebhookTarget: Sendable {
    /// Where to POST, `http` or `https`.
    public var url: String
    /// The shared HMAC key; see `Webhook` for how the receiver checks a signature.
    public var secret: String

    public init(url: String, secret: String) {
        self.url = url
        self.secret = secret
    }
}

/// A group chat robot: a WeCom (企业微信) group robot or a DingTalk (钉钉) custom robot.
public struct RobotTarget: Sendable {
    /// Which app's robot protocol to speak.
    public enum Kind: String, Sendable {
        case wecom, dingtalk
    }

    public var kind: Kind
    /// The robot's webhook URL as the chat app shows it, access token or key included.
    public var url: String
    /// For DingTalk robots with "加签" security: the `SEC…` secret that signs each request. Unused for WeCom.
    public var secret: String?

    public init(kind: Kind, url: String, secret: String? = nil) {
        self.kind = kind
        self.url = url
        self.secret = secret
    }
}

extension WebhookTarget: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never shows the secret, so that a target printed into a log does not leak it.
    public var description: String { "WebhookTarget(url: \(url), secret: <\(secret.utf8.count) bytes>)" }
    public var debugDescription: String { description }
}

extension RobotTarget: CustomStringConvertible, CustomDebugStringConvertible {
    /// Shows only the host: the robot's URL carries its access token, which lets anyone post to the group.
    public var description: String {
        "RobotTarget(kind: \(kind.rawValue), host: \(URL(string: url)?.host ?? "?"), "
            + "secret: \(secret == nil ? "none" : "<set>"))"
    }
    public var debugDescription: String { description }
}

/// One notice for a group chat, in the forms the robots take.
public struct ChatMessage: Sendable {
    /// DingTalk shows it in the conversation list and the notification.
    public var title: String
    /// The message for robots that render Markdown (WeCom's and DingTalk's subsets).
    public var markdown: String
    /// The plain-text form, sent to WeCom when someone is mentioned (WeCom markdown cannot mention by mobile).
    public var text: String
    /// Mobile numbers of the group members to @-mention.
    public var mentionMobiles: [String]

    public init(title: String, markdown: String, text: String, mentionMobiles: [String] = []) {
        self.title = title
        self.markdown = markdown
        self.text = text
        self.mentionMobiles = mentionMobiles
    }
}

/// Sends notices to webhooks and chat robots over HTTP(S), one attempt per call, and says what it came to.
///
/// A call never throws: connection failures, timeouts, HTTP 408, 429 and 5xx, and the robots' own "too fast" or
/// "busy" answers are `transient` (the dispatcher retries them); other refusals are `permanent`.
///
/// Robots accept at most 20 messages a minute each. The sender keeps a sliding one-minute window per robot URL and,
/// when a robot's window is full, waits for the slot that frees first, up to a minute; a message that would wait
/// longer (because others are already queued for that robot) is answered `transient` without being sent.
public final class ChannelSender: Sendable {
    /// How long one request may take, connection included (AsyncHTTPClient retries a refused connection until then).
    public static let requestTimeout: TimeAmount = .seconds(15)
    /// The longest a message waits for a robot's rate limit.
    public static let maximumWait: TimeInterval = 60
    private let httpClient: HTTPClient
    private let timeout: TimeAmount
    /// Signs requests, and a message waits for its robot's rate limit on it.
    private let clock: any WallClock
    private let limiter: RobotRateLimiter

    /// - Parameters:
    ///   - httpClient: The client for all requests; the shared one by default.
    ///   - clock: The clock that signs requests and drives the rate limit (the real one: signatures are checked
    ///     against the robot server's time).
    ///   - perRobotPerMinute: Messages each robot URL may receive in any minute (WeCom and DingTalk allow 20).
    public convenience init(
        httpClient: HTTPClient = .shared, clock: any WallClock = SystemWallClock(), perRobotPerMinute: Int = 20
    ) {
        self.init(
            httpClient: httpClient, clock: clock, perRobotPerMinute: perRobotPerMinute, window: 60,
            requestTimeout: Self.requestTimeout)
    }

    /// Tests give a clock they move, or a shorter window, so that nothing waits a real minute.
    init(
        httpClient: HTTPClient, clock: any WallClock, perRobotPerMinute: Int, window: TimeInterval,
        requestTimeout: TimeAmount
    ) {
        self.httpClient = httpClient
        self.timeout = requestTimeout
        self.clock = clock
        self.limiter = RobotRateLimiter(
            limit: perRobotPerMinute, window: window, maximumWait: min(Self.maximumWait, window))
    }

    // MARK: - Webhooks

    /// POSTs `json` to the webhook, signed as `Webhook` describes, with `X-Mediation-Message-Id: messageID` so that
    /// the receiver can drop a message delivered twice.
    public func sendWebhook(_ target: WebhookTarget, json: Data, messageID: String) async -> DeliveryResult {
        guard Self.isHTTPURL(target.url) else {
            return .permanent("webhook URL is not an http(s) URL")
        }
        let timestamp = Int64(clock.now().timeIntervalSince1970.rounded(.down))
        var request = HTTPClientRequest(url: target.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: Webhook.timestampHeader, value: String(timestamp))
        request.headers.add(
            name: Webhook.signatureHeader,
            value: Webhook.signature(timestamp: timestamp, body: json, secret: target.secret))
        request.headers.add(name: Webhook.messageIDHeader, value: Self.headerSafe(messageID))
        request.body = .bytes(ByteBuffer(bytes: json))
        switch await exchange(request) {
        case .failed(let reason):
            return .transient("webhook: \(reason)")
        case .answered(let status, let body):
            return Self.classify(status: status, body: body, channel: "webhook")
        }
    }

    // MARK: - Robots

    /// Posts `message` to a WeCom or DingTalk group robot, waiting for the robot's rate limit first.
    ///
    /// WeCom gets `markdown` (at most 2,048 bytes), or `text` with `mentioned_mobile_list` when someone is mentioned.
    /// DingTalk gets `title` and `markdown`, with `at.atMobiles` and an `@mobile` for each mention that the text
    /// does not already contain (DingTalk highlights a mention only when the text has it); with a secret, the URL
    /// carries `timestamp` and `sign` (see `DingTalk.sign`).
    public func sendRobot(_ target: RobotTarget, _ message: ChatMessage) async -> DeliveryResult {
        let channel = target.kind.rawValue
        guard Self.isHTTPURL(target.url) else {
            return .permanent("\(channel) robot URL is not an http(s) URL")
        }
        let body: Data
        do {
            body = try RobotPayload.body(for: target.kind, message)
        } catch {
            return .permanent("\(channel): cannot encode the message: \(error)")
        }
        guard let delay = limiter.reserve(target.url, at: clock.now()) else {
            return .transient(
                "\(channel): not sent: the robot's limit of \(limiter.limit) a minute is taken for longer than "
                    + "\(Int(limiter.maximumWait)) s by messages already waiting")
        }
        if delay > 0 {
            do {
                try await clock.sleep(until: clock.now().addingTimeInterval(delay))
            } catch {
                return .transient("\(channel): cancelled while waiting \(Int(delay.rounded(.up))) s for the rate limit")
            }
        }
        var url = target.url
        if target.kind == .dingtalk, let secret = target.secret, !secret.isEmpty {
            let millis = Int64((clock.now().timeIntervalSince1970 * 1000).rounded(.down))
            url +=
                (url.contains("?") ? "&" : "?")
                + "timestamp=\(millis)&sign=\(DingTalk.sign(timestampMillis: millis, secret: secret))"
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.body = .bytes(ByteBuffer(bytes: body))
        switch await exchange(request) {
        case .failed(let reason):
            return .transient("\(channel): \(reason)")
        case .answered(let status, let reply):
            guard (200..<300).contains(status) else {
                return Self.classify(status: status, body: reply, channel: channel)
            }
            return RobotPayload.outcome(of: reply, kind: target.kind)
        }
    }

    // MARK: - HTTP

    private func exchange(_ request: HTTPClientRequest) async -> HTTPExchange {
        await HTTPExchange.run(request, on: httpClient, timeout: timeout)
    }

    /// The one mapping from an HTTP status to a delivery result, for webhooks and robots alike.
    static func classify(status: Int, body: String, channel: String) -> DeliveryResult {
        let snippet = body.isEmpty ? "" : ": " + String(body.prefix(200))
        switch status {
        case 200..<300: return .sent(detail: "\(channel): HTTP \(status)")
        case 408, 429, 500...: return .transient("\(channel): HTTP \(status)\(snippet)")
        default: return .permanent("\(channel): HTTP \(status)\(snippet)")
        }
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host else {
            return false
        }
        return (scheme == "http" || scheme == "https") && !host.isEmpty
    }

    /// A header value cannot hold a line break; a message id with one would otherwise fail every attempt.
    static func headerSafe(_ value: String) -> String {
        String(String.UnicodeScalarView(value.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
    }
}

/// How webhook requests are signed, for the people who write receivers.
///
/// Each request carries:
/// - `X-Mediation-Timestamp`: the Unix time in whole seconds when it was sent;
/// - `X-Mediation-Signature`: `sha256=` and the lower-case hex HMAC-SHA256, keyed with the shared secret (its
///   UTF-8 bytes), of the timestamp, a `.`, and the exact body bytes;
/// - `X-Mediation-Message-Id`: the same for every attempt at one message, so a repeat can be recognised.
///
/// A receiver recomputes the HMAC over the raw body (before parsing it), compares in constant time, and refuses a
/// timestamp more than five minutes from its own clock. For example, in Python:
/// ```python
/// expected = "sha256=" + hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
/// ok = hmac.compare_digest(expected, request.headers["X-Mediation-Signature"])
/// ```
public enum Webhook {
    /// Unix seconds when the request was signed.
    public static let timestampHeader = "X-Mediation-Timestamp"
    /// `sha256=` and the hex HMAC.
    public static let signatureHeader = "X-Mediation-Signature"
    /// The message's id, the same on every attempt.
    public static let messageIDHeader = "X-Mediation-Message-Id"

    /// The `X-Mediation-Signature` value: `sha256=<hex HMAC-SHA256(secret, "\(timestamp)." + body)>`.
    public static func signature(timestamp: Int64, body: Data, secret: String) -> String {
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}

/// DingTalk custom robots' "加签" security.
public enum DingTalk {
    /// RFC 3986 unreserved characters: everything else in the base64 text (`+`, `/`, `=`) is escaped.
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The `sign` query parameter: base64 of HMAC-SHA256 keyed with the secret over `"\(timestampMillis)\n\(secret)"`,
    /// percent-encoded for a query string (`+`, `/` and `=` escaped).
    ///
    /// For example:
    /// ```swift
    /// DingTalk.sign(timestampMillis: 1700000000000, secret: "SECtestsecret")
    /// // "7LVwF0dAF3%2F%2BMRRulbpE4y72Ogzykc6bS2nG4I99T4s%3D"
    /// ```
    public static func sign(timestampMillis: Int64, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(timestampMillis)\n\(secret)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        let base64 = Data(mac).base64EncodedString()
        return base64.addingPercentEncoding(withAllowedCharacters: unreserved) ?? base64
    }
}

/// One HTTP exchange with a service, as every channel makes it (webhooks, robots, SMS gateways, chat
/// applications): the answer's status and the start of its body, or why there was none. Never throws.
enum HTTPExchange: Sendable {
    case answered(status: Int, body: String)
    case failed(String)

    /// The most of a reply kept; the rest is drained, so that a large reply neither fails nor piles up.
    static let replyLimit = 64 * 1024

    static func run(_ request: HTTPClientRequest, on client: HTTPClient, timeout: TimeAmount) async -> HTTPExchange {
        do {
            let response = try await client.execute(request, timeout: timeout)
            var kept = ByteBuffer()
            for try await var chunk in response.body where kept.readableBytes < replyLimit {
                kept.writeBuffer(&chunk)
            }
            return .answered(status: Int(response.status.code), body: String(buffer: kept))
        } catch {
            return .failed(String(describing: error))
        }
    }
}
