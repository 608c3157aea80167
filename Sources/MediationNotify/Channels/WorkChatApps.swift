import AsyncHTTPClient
import Foundation
import MediationCore
import NIOCore
import NIOHTTP1
import Synchronization

/// A WeCom (企业微信) self-built application or a DingTalk (钉钉) internal application that sends messages to one
/// member at a time: WeCom application messages (`message/send` to a `touser`), DingTalk work notifications
/// (`corpconversation/asyncsend_v2` to a `userid_list`). Unlike a group robot, only the person reads them, so they
/// may carry the person's own page.
public struct WorkChatAppSettings: Sendable {
    public enum Kind: String, Sendable {
        case wecom, dingtalk

        /// The service's own address.
        public var defaultAPI: String {
            switch self {
            case .wecom: "https://qyapi.weixin.qq.com"
            case .dingtalk: "https://oapi.dingtalk.com"
            }
        }
    }

    public var kind: Kind
    /// Where requests go: the service's own address unless set (a local stand-in in tests, a proxy).
    public var api: String
    /// WeCom's corpid or DingTalk's AppKey.
    public var key: String
    /// WeCom's application secret or DingTalk's AppSecret.
    public var secret: String
    /// The application's AgentId.
    public var agentId: Int
    /// Messages one member may receive in any minute (WeCom allows 30 per member per application).
    public var perUserPerMinute: Int

    public init(kind: Kind, api: String? = nil, key: String, secret: String, agentId: Int, perUserPerMinute: Int = 30) {
        self.kind = kind
        self.api = api ?? kind.defaultAPI
        self.key = key
        self.secret = secret
        self.agentId = agentId
        self.perUserPerMinute = perUserPerMinute
    }
}

extension WorkChatAppSettings: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never shows the secret.
    public var description: String {
        "WorkChatAppSettings(kind: \(kind.rawValue), api: \(api), agent: \(agentId), secret: <set>)"
    }
    public var debugDescription: String { description }
}

/// Sends personal messages through one application: fetches its access token (`gettoken`), keeps it until shortly
/// before it expires, fetches a new one once when the service says it is invalid or expired (WeCom 40014/42001,
/// DingTalk 88/40014) and sends again, waits for each member's per-minute limit, and answers a "too fast" or
/// "busy" reply as transient, for the dispatcher to back off. DingTalk addresses a member by user id, found once
/// from the mobile (`user/getbymobile`) and kept.
public final class WorkChatApp: Sendable {
    public let settings: WorkChatAppSettings
    private let httpClient: HTTPClient
    private let clock: any WallClock
    private let timeout: TimeAmount
    private let token = Mutex<(value: String, expires: Date)?>(nil)
    /// DingTalk user ids by mobile, each kept for a day (a member who leaves and rejoins gets a new one).
    private let userIds = Mutex<[String: (id: String, until: Date)]>([:])
    private let limiter: RobotRateLimiter

    public init(
        settings: WorkChatAppSettings, httpClient: HTTPClient = .shared, clock: any WallClock = SystemWallClock(),
        timeout: TimeAmount = .seconds(15)
    ) {
        self.settings = settings
        self.httpClient = httpClient
        self.clock = clock
        self.timeout = timeout
        // A member whose minute is full is tried again after the backoff: nothing waits inside a pass.
        self.limiter = RobotRateLimiter(limit: settings.perUserPerMinute, window: 60, maximumWait: 0)
    }

    private var channel: String { "\(settings.kind.rawValue)-app" }

    /// The reply's `errcode` (0 for success), `errmsg` and the whole object.
    private struct Reply {
        var code: Int
        var message: String
        var object: [String: Any]
    }

    private enum Call {
        case reply(Reply)
        case failed(String)
    }

    private func call(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: [String: Any]?) async
        -> Call
    {
        var components = URLComponents()
        components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) }
        var request = HTTPClientRequest(url: settings.api + path + "?" + (components.percentEncodedQuery ?? ""))
        request.method = method
        if let body {
            guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) else {
                return .failed("cannot encode the message")
            }
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        switch await HTTPExchange.run(request, on: httpClient, timeout: timeout) {
        case .failed(let why): return .failed(why)
        case .answered(let status, let body):
            guard (200..<300).contains(status) else { return .failed("HTTP \(status)") }
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
                return .failed("the answer is not JSON")
            }
            return .reply(
                Reply(
                    code: (object["errcode"] as? Int) ?? -1,
                    message: (object["errmsg"] as? String) ?? "", object: object))
        }
    }

    /// The access token, fetched when there is none or it is about to expire.
    private func accessToken(fresh: Bool) async -> Result<String, DeliveryFailure> {
        let now = clock.now()
        if !fresh, let held = token.withLock({ $0 }), held.expires > now { return .success(held.value) }
        let query: [(String, String)] =
            settings.kind == .wecom
            ? [("corpid", settings.key), ("corpsecret", settings.secret)]
            : [("appkey", settings.key), ("appsecret", settings.secret)]
        let path = settings.kind == .wecom ? "/cgi-bin/gettoken" : "/gettoken"
        switch await call(.GET, path, query: query, body: nil) {
        case .failed(let why):
            return .failure(.transient("\(channel): gettoken: \(why)"))
        case .reply(let r):
            if throttled(r) {
                return .failure(.transient("\(channel): gettoken: errcode \(r.code) (\(r.message)); tried again later"))
            }
            guard r.code == 0, let value = r.object["access_token"] as? String else {
                let keys =
                    settings.kind == .wecom
                    ? "wecom.corp_id and wecom.secret_file"
                    : "dingtalk.app_key and "
                        + "dingtalk.app_secret_file"
                return .failure(
                    .permanent(
                        "\(channel): gettoken refused (errcode \(r.code): \(r.message)): check \(keys) and send "
                            + "SIGHUP"))
            }
            let lifetime = Double((r.object["expires_in"] as? Int) ?? 7200)
            // Renewed five minutes early, so a token never expires on the way.
            token.withLock { $0 = (value, now.addingTimeInterval(max(60, lifetime - 300))) }
            return .success(value)
        }
    }

    struct DeliveryFailure: Error {
        var result: DeliveryResult
        static func transient(_ s: String) -> DeliveryFailure { DeliveryFailure(result: .transient(s)) }
        static func permanent(_ s: String) -> DeliveryFailure { DeliveryFailure(result: .permanent(s)) }
    }

    /// Whether a reply says the token is invalid or expired.
    private func tokenRefused(_ r: Reply) -> Bool {
        switch settings.kind {
        case .wecom: [40014, 42001, 41001].contains(r.code)
        case .dingtalk:
            [88, 40014, 42001, 41001].contains(r.code) && (r.code != 88 || (r.object["sub_code"] as? String) != nil)
        }
    }

    /// Whether a reply says "too fast" or "busy".
    private func throttled(_ r: Reply) -> Bool {
        switch settings.kind {
        case .wecom: [45009, 45033, 45047, -1].contains(r.code)
        case .dingtalk: [90018, 90002, 90006, 90019, -1].contains(r.code)
        }
    }

    /// Calls `path` with the token, fetching a new one once when the service refuses the one held.
    private func withToken(_ path: String, body: [String: Any]) async -> Result<Reply, DeliveryFailure> {
        var fresh = false
        for _ in 0..<2 {
            let t: String
            switch await accessToken(fresh: fresh) {
            case .success(let v): t = v
            case .failure(let f): return .failure(f)
            }
            switch await call(.POST, path, query: [("access_token", t)], body: body) {
            case .failed(let why): return .failure(.transient("\(channel): \(why)"))
            case .reply(let r):
                if tokenRefused(r) {
                    token.withLock { if $0?.value == t { $0 = nil } }
                    fresh = true
                    continue
                }
                return .success(r)
            }
        }
        return .failure(.transient("\(channel): the service refused a freshly fetched access token; tried again later"))
    }

    /// The DingTalk user id of a mobile, asked once and kept.
    private func dingTalkUser(_ mobile: String, fix: String?) async -> Result<String, DeliveryFailure> {
        let now = clock.now()
        if let known = userIds.withLock({ $0[mobile] }), known.until > now { return .success(known.id) }
        switch await withToken("/topapi/v2/user/getbymobile", body: ["mobile": mobile]) {
        case .failure(let f): return .failure(f)
        case .success(let r):
            if r.code == 0, let id = (r.object["result"] as? [String: Any])?["userid"] as? String {
                userIds.withLock { $0[mobile] = (id, now.addingTimeInterval(86400)) }
                return .success(id)
            }
            if throttled(r) { return .failure(.transient("\(channel): errcode \(r.code) (\(r.message)); backing off")) }
            let fixing = fix.map { "correct it with '\($0)'" } ?? "correct the DingTalk mobile"
            return .failure(
                .permanent(
                    "\(channel): no member of the DingTalk organisation has the mobile \(Contact.maskMobile(mobile)) "
                        + "(errcode \(r.code): \(r.message)): \(fixing)"))
        }
    }

    /// Sends `text` to one member (a WeCom user id, or the mobile of a DingTalk member).
    public func send(to member: String, title: String, text: String, fix: String?, outboxId: Int64?) async
        -> DeliveryResult
    {
        let retry = outboxId.map { "then 'mediationctl outbox retry \($0)'" } ?? "then send again"
        var user = member
        if settings.kind == .dingtalk {
            switch await dingTalkUser(member, fix: fix) {
            case .success(let id): user = id
            case .failure(let f):
                if case .permanent(let d) = f.result { return .permanent(d + ", " + retry) }
                return f.result
            }
        }
        guard limiter.reserve(user, at: clock.now()) != nil else {
            return .transient(
                "\(channel): \(settings.perUserPerMinute) messages a minute to this member already; tried again later")
        }
        // Each message's own number at the end: DingTalk drops a text that reached the member once today, and two
        // messages of a day (put on a panel, taken off, put on again) may otherwise read the same.
        let tail = outboxId.map { "\n（通知编号 #\($0)）" } ?? ""
        let content = Self.fit(title + "\n\n" + text, bytes: 2000 - tail.utf8.count) + tail
        let path: String
        let body: [String: Any]
        switch settings.kind {
        case .wecom:
            path = "/cgi-bin/message/send"
            body = [
                "touser": user, "msgtype": "text", "agentid": settings.agentId, "text": ["content": content],
                "safe": 0, "enable_duplicate_check": 0,
            ]
        case .dingtalk:
            path = "/topapi/message/corpconversation/asyncsend_v2"
            body = [
                "agent_id": settings.agentId, "userid_list": user,
                "msg": ["msgtype": "text", "text": ["content": content]],
            ]
        }
        switch await withToken(path, body: body) {
        case .failure(let f): return f.result
        case .success(let r):
            if r.code == 0 {
                if settings.kind == .wecom, let invalid = r.object["invaliduser"] as? String, !invalid.isEmpty {
                    return unknownMember(r, fix: fix, retry: retry)
                }
                let id = (r.object["msgid"] as? String) ?? (r.object["task_id"]).map { "\($0)" } ?? "?"
                return .sent(detail: "\(channel): errcode 0, \(settings.kind == .wecom ? "msgid" : "task") \(id)")
            }
            if throttled(r) {
                return .transient("\(channel): errcode \(r.code) (\(r.message)): the service asks to slow down")
            }
            if settings.kind == .wecom && [81013, 60111, 40031].contains(r.code) {
                return unknownMember(r, fix: fix, retry: retry)
            }
            return .permanent("\(channel): errcode \(r.code) (\(r.message)), \(retry)")
        }
    }

    private func unknownMember(_ r: Reply, fix: String?, retry: String) -> DeliveryResult {
        let fixing = fix.map { "correct it with '\($0)'" } ?? "correct the WeCom user id"
        return .permanent(
            "\(channel): WeCom does not know this member's user id (errcode \(r.code): \(r.message)): \(fixing), "
                + retry)
    }

    /// `text` cut to at most `bytes` UTF-8 bytes on a character boundary, with `…` where it was cut.
    static func fit(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var out = ""
        var used = 0
        for c in text {
            let n = String(c).utf8.count
            guard used + n <= bytes - 3 else { break }
            out.append(c)
            used += n
        }
        return out + "…"
    }
}

/// Personal messages through a WeCom or DingTalk application (`WorkChatApp`).
public struct WorkChatAppChannel: NotificationChannel {
    public var name: String { "\(app.settings.kind.rawValue)-app" }
    public let reach = ChannelReach.personal
    public let keepsQuietHours = false
    public let app: WorkChatApp

    public init(app: WorkChatApp) { self.app = app }

    func member(_ m: PreparedMessage) -> String? {
        switch app.settings.kind {
        case .wecom: m.notice.wecomUser
        case .dingtalk: m.notice.dingtalkMobile
        }
    }

    public func accepts(_ message: PreparedMessage) -> Bool { message.isPersonal && member(message) != nil }

    /// One at a time: the page link goes first in the text so that a cut never loses it.
    public func deliver(_ batch: [PreparedMessage], taken: @escaping @Sendable (String) -> Void) async
        -> [DeliveryResult]
    {
        var results: [DeliveryResult] = []
        for m in batch {
            guard let member = member(m) else {
                results.append(.permanent("\(name): no member address for this message"))
                continue
            }
            var text = m.notice.text
            if let page = m.notice.page, !text.contains(page) || (m.notice.subject + text).utf8.count > 1990 {
                text = page + "\n\n" + text
            }
            let result = await app.send(
                to: member, title: m.notice.subject, text: text,
                fix: m.corrections[app.settings.kind == .wecom ? .wecom : .dingtalk], outboxId: m.outboxId)
            if case .sent = result { taken(m.notice.messageID) }
            results.append(result)
        }
        return results
    }
}
