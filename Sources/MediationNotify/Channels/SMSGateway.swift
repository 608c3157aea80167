import AsyncHTTPClient
import Crypto
import Foundation
import MediationCore
import NIOCore
import Synchronization

/// An SMS gateway account: Alibaba Cloud SMS (`SendSms`, API 2017-05-25, signed ACS3-HMAC-SHA256) or Tencent Cloud
/// SMS (`SendSms`, API 2021-01-11, signed TC3-HMAC-SHA256), with the signature name (签名) and the approved
/// template for each kind of message. The gateways send only approved templates, so a message is never free text:
/// its parameters are the dispute's number, the time in the recipient's zone and the recipient's own page.
public struct SMSSettings: Sendable {
    public enum Provider: String, Sendable, CaseIterable {
        case aliyun, tencent

        /// The provider's own address.
        public var defaultEndpoint: String {
            switch self {
            case .aliyun: "https://dysmsapi.aliyuncs.com"
            case .tencent: "https://sms.tencentcloudapi.com"
            }
        }
    }

    /// The template keys: `notice` (a new booking, or being put on a panel), `update` (moved), `cancel` (cancelled,
    /// or taken off a panel), `reminder`.
    public static let templateKinds = ["notice", "update", "cancel", "reminder"]

    public var provider: Provider
    /// Where requests go: the provider's address unless set (a local stand-in in tests, a proxy).
    public var endpoint: String
    /// Alibaba's AccessKey ID or Tencent's SecretId.
    public var keyId: String
    /// Alibaba's AccessKey secret or Tencent's SecretKey.
    public var keySecret: String
    /// Tencent's SmsSdkAppId; unused for Alibaba.
    public var appId: String?
    /// Tencent's region (`ap-guangzhou`); unused for Alibaba.
    public var region: String
    /// The approved signature name (签名), without brackets.
    public var signName: String
    /// The approved template for each of `templateKinds`.
    public var templates: [String: String]
    /// Requests in flight at once.
    public var concurrency: Int

    public init(
        provider: Provider, endpoint: String? = nil, keyId: String, keySecret: String, appId: String? = nil,
        region: String = "ap-guangzhou", signName: String, templates: [String: String], concurrency: Int = 16
    ) {
        self.provider = provider
        self.endpoint = endpoint ?? provider.defaultEndpoint
        self.keyId = keyId
        self.keySecret = keySecret
        self.appId = appId
        self.region = region
        self.signName = signName
        self.templates = templates
        self.concurrency = max(1, concurrency)
    }

    /// The template for a kind of message (being put on a panel reads as a notice, being taken off as a cancel);
    /// nil for what never goes by SMS (an answer to the office).
    public func template(for kind: NoticeKind) -> String? {
        switch kind {
        case .notice, .added: templates["notice"]
        case .update: templates["update"]
        case .cancel, .removed: templates["cancel"]
        case .reminder: templates["reminder"]
        case .followup, .rsvp: nil
        }
    }
}

extension SMSSettings: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never shows the secret.
    public var description: String {
        "SMSSettings(provider: \(provider.rawValue), endpoint: \(endpoint), key: \(keyId), secret: <set>)"
    }
    public var debugDescription: String { description }
}

/// The values a template is filled with, in the one order Tencent's numbered templates take them ({1} {2} {3})
/// and under the names Alibaba's take them (`${number}`, `${time}`, `${link}`).
public struct SMSParameters: Sendable, Equatable {
    /// The dispute's number (`JS-2026-0042`).
    public var number: String
    /// The session's start in the recipient's zone (`12月7日 14:00`).
    public var time: String
    /// The recipient's own page, never a bare token.
    public var link: String

    public var named: [String: String] { ["number": number, "time": time, "link": link] }
    public var ordered: [String] { [number, time, link] }
}

/// Sends template messages through one gateway account and fetches their delivery receipts. One request per
/// message, at most `settings.concurrency` at once; a call never throws: every answer becomes a `DeliveryResult`
/// with what to do (`SMSAnswer`).
public final class SMSGateway: Sendable {
    public let settings: SMSSettings
    private let httpClient: HTTPClient
    /// Signs requests: the real clock, as the gateway checks signatures against its own.
    private let clock: any WallClock
    private let timeout: TimeAmount

    public init(
        settings: SMSSettings, httpClient: HTTPClient = .shared, clock: any WallClock = SystemWallClock(),
        timeout: TimeAmount = .seconds(15)
    ) {
        self.settings = settings
        self.httpClient = httpClient
        self.clock = clock
        self.timeout = timeout
    }

    /// The number as the provider wants it, from the one reading of a mobile (`Contact.normalizeMobile`): Alibaba
    /// takes a mainland mobile's 11 digits and another country's code and number without `+`, Tencent E.164.
    func phone(_ mobile: String) -> String {
        let normal = Contact.normalizeMobile(mobile) ?? mobile
        switch settings.provider {
        case .aliyun: return normal.hasPrefix("+") ? String(normal.dropFirst()) : normal
        case .tencent: return normal.hasPrefix("+") ? normal : "+86" + normal
        }
    }

    /// Sends one message; `fix` is the command that corrects the person's mobile, for a number the gateway refuses.
    public func send(
        to mobile: String, kind: NoticeKind, parameters: SMSParameters, reference: String, fix: String?,
        outboxId: Int64?
    ) async -> DeliveryResult {
        guard let template = settings.template(for: kind) else {
            return .permanent("sms: no template for \(kind.rawValue) messages (set sms.templates)")
        }
        let to = phone(mobile)
        let request: HTTPClientRequest
        do {
            request = try build(to: to, template: template, parameters: parameters, reference: reference)
        } catch {
            return .permanent("sms: cannot build the request: \(error)")
        }
        switch await exchange(request) {
        case .failed(let why):
            return .transient("sms: \(settings.provider.rawValue): \(why)")
        case .answered(let status, let body):
            let answer = SMSAnswer.read(provider: settings.provider, status: status, body: body)
            return answer.result(
                provider: settings.provider, phone: to, template: template, kind: kind, fix: fix, outboxId: outboxId)
        }
    }

    func build(to: String, template: String, parameters: SMSParameters, reference: String) throws
        -> HTTPClientRequest
    {
        switch settings.provider {
        case .aliyun:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let json = String(decoding: try encoder.encode(parameters.named), as: UTF8.self)
            return aliyun(
                action: "SendSms",
                query: [
                    "PhoneNumbers": to, "SignName": settings.signName, "TemplateCode": template,
                    "TemplateParam": json, "OutId": reference,
                ])
        case .tencent:
            let body: [String: Any] = [
                "PhoneNumberSet": [to], "SmsSdkAppId": settings.appId ?? "", "SignName": settings.signName,
                "TemplateId": template, "TemplateParamSet": parameters.ordered, "SessionContext": reference,
            ]
            return tencent(
                action: "SendSms",
                body: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
        }
    }

    // MARK: - Alibaba: ACS3-HMAC-SHA256

    /// `host` or `host:port` as it goes in the Host header (and so into the signature).
    var hostHeader: String {
        guard let url = URL(string: settings.endpoint), let host = url.host else { return settings.endpoint }
        return url.port.map { "\(host):\($0)" } ?? host
    }

    /// An RPC-style request with every parameter in the query and an empty body, signed as Alibaba's V3 signature
    /// (ACS3-HMAC-SHA256) describes: a canonical request of the method, path, sorted query and signed headers and
    /// the body's SHA-256; its SHA-256 signed with HMAC-SHA256 under the AccessKey secret.
    func aliyun(action: String, query: [String: String]) -> HTTPClientRequest {
        let canonicalQuery = query.sorted { $0.key < $1.key }.map {
            "\(Self.rfc3986($0.key))=\(Self.rfc3986($0.value))"
        }
        .joined(separator: "&")
        let payloadHash = Self.hex(SHA256.hash(data: Data()))
        let headers: [(String, String)] = [
            ("host", hostHeader), ("x-acs-action", action), ("x-acs-content-sha256", payloadHash),
            ("x-acs-date", Self.isoDate(clock.now())), ("x-acs-signature-nonce", Self.nonce()),
            ("x-acs-version", "2017-05-25"),
        ]
        let signedHeaders = headers.map(\.0).joined(separator: ";")
        let canonicalHeaders = headers.map { "\($0.0):\($0.1)\n" }.joined()
        let canonical = "POST\n/\n\(canonicalQuery)\n\(canonicalHeaders)\n\(signedHeaders)\n\(payloadHash)"
        let toSign = "ACS3-HMAC-SHA256\n" + Self.hex(SHA256.hash(data: Data(canonical.utf8)))
        let signature = Self.hex(
            HMAC<SHA256>.authenticationCode(
                for: Data(toSign.utf8), using: SymmetricKey(data: Data(settings.keySecret.utf8))))
        var request = HTTPClientRequest(url: settings.endpoint + "/?" + canonicalQuery)
        request.method = .POST
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(
            name: "Authorization",
            value: "ACS3-HMAC-SHA256 Credential=\(settings.keyId),SignedHeaders=\(signedHeaders),Signature=\(signature)"
        )
        return request
    }

    // MARK: - Tencent: TC3-HMAC-SHA256

    /// A JSON POST signed as Tencent Cloud's TC3-HMAC-SHA256 describes: a canonical request over the content type
    /// and host and the body's SHA-256; a key derived from `TC3` + SecretKey through the date, `sms` and
    /// `tc3_request`.
    func tencent(action: String, body: Data) -> HTTPClientRequest {
        let timestamp = Int64(clock.now().timeIntervalSince1970.rounded(.down))
        let date = Self.utcDay(timestamp)
        let contentType = "application/json; charset=utf-8"
        let host = hostHeader
        let canonical =
            "POST\n/\n\ncontent-type:\(contentType)\nhost:\(host)\n\ncontent-type;host\n"
            + Self.hex(SHA256.hash(data: body))
        let scope = "\(date)/sms/tc3_request"
        let toSign = "TC3-HMAC-SHA256\n\(timestamp)\n\(scope)\n" + Self.hex(SHA256.hash(data: Data(canonical.utf8)))
        func mac(_ key: Data, _ text: String) -> Data {
            Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: key)))
        }
        let signing = mac(mac(mac(Data("TC3\(settings.keySecret)".utf8), date), "sms"), "tc3_request")
        let signature = Self.hex(mac(signing, toSign))
        var request = HTTPClientRequest(url: settings.endpoint + "/")
        request.method = .POST
        request.headers.add(name: "Host", value: host)
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "X-TC-Action", value: action)
        request.headers.add(name: "X-TC-Timestamp", value: String(timestamp))
        request.headers.add(name: "X-TC-Version", value: "2021-01-11")
        request.headers.add(name: "X-TC-Region", value: settings.region)
        request.headers.add(
            name: "Authorization",
            value: "TC3-HMAC-SHA256 Credential=\(settings.keyId)/\(scope), SignedHeaders=content-type;host, "
                + "Signature=\(signature)")
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    // MARK: - Receipts

    /// Asks the gateway what became of messages still waiting; answers those it knows the end of (delivered or
    /// failed). Alibaba is asked per message (`QuerySendDetails`, at most 100 a time); Tencent hands over every
    /// receipt once (`PullSmsSendStatus`), so one pull answers for all, also for messages not in `waiting`. A
    /// gateway that cannot be reached answers nothing.
    public func receipts(for waiting: [DeliveryReceipt]) async -> [DeliveryReceipt] {
        let mine = waiting.filter { $0.provider == settings.provider.rawValue }
        guard !mine.isEmpty else { return [] }
        switch settings.provider {
        case .aliyun:
            // At most 100 a time, 8 at once: a gateway that does not answer costs a few timeouts, not hundreds.
            let asked = Array(mine.prefix(100))
            return await withTaskGroup(of: DeliveryReceipt?.self) { group in
                var next = 0
                var done: [DeliveryReceipt] = []
                func ask(_ r: DeliveryReceipt) {
                    group.addTask { [self] in await aliyunReceipt(r) }
                }
                while next < min(8, asked.count) {
                    ask(asked[next])
                    next += 1
                }
                for await answer in group {
                    if let answer { done.append(answer) }
                    if next < asked.count {
                        ask(asked[next])
                        next += 1
                    }
                }
                return done
            }
        case .tencent:
            // Each receipt is handed over once: all of them are answered, also those of messages not (yet) known
            // as waiting here, for the caller to keep until they are.
            var done: [DeliveryReceipt] = []
            for _ in 0..<20 {
                let body =
                    (try? JSONSerialization.data(
                        withJSONObject: ["Limit": 100, "SmsSdkAppId": settings.appId ?? ""], options: [.sortedKeys]))
                    ?? Data()
                guard
                    case .answered(status: 200, let text) = await exchange(
                        tencent(action: "PullSmsSendStatus", body: body)),
                    let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                    let response = object["Response"] as? [String: Any],
                    let set = response["PullSmsSendStatusSet"] as? [[String: Any]]
                else { break }
                for item in set {
                    guard let serial = item["SerialNo"] as? String else { continue }
                    done.append(
                        DeliveryReceipt(
                            provider: SMSSettings.Provider.tencent.rawValue, id: serial,
                            phone: item["PhoneNumber"] as? String ?? "",
                            state: (item["ReportStatus"] as? String) == "SUCCESS" ? .delivered : .failed,
                            detail: item["Description"] as? String, sentAt: clock.now(),
                            receivedAt: (item["UserReceiveTime"] as? Int).map {
                                Date(timeIntervalSince1970: Double($0))
                            }
                        ))
                }
                if set.count < 100 { break }
            }
            return done
        }
    }

    /// One Alibaba receipt (`QuerySendDetails`), when the operator has reported.
    private func aliyunReceipt(_ r: DeliveryReceipt) async -> DeliveryReceipt? {
        let request = aliyun(
            action: "QuerySendDetails",
            query: [
                "PhoneNumber": r.phone, "BizId": r.id, "SendDate": Self.beijingDay(r.sentAt), "PageSize": "10",
                "CurrentPage": "1",
            ])
        guard case .answered(status: 200, let body) = await exchange(request),
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let list = (object["SmsSendDetailDTOs"] as? [String: Any])?["SmsSendDetailDTO"] as? [[String: Any]],
            let detail = list.first
        else { return nil }
        let status = (detail["SendStatus"] as? Int) ?? 1
        guard status == 2 || status == 3 else { return nil }
        var updated = r
        updated.state = status == 3 ? .delivered : .failed
        updated.detail = detail["ErrCode"] as? String
        updated.receivedAt = (detail["ReceiveDate"] as? String).flatMap(Self.beijingMoment)
        return updated
    }

    // MARK: - HTTP and text

    private func exchange(_ request: HTTPClientRequest) async -> HTTPExchange {
        await HTTPExchange.run(request, on: httpClient, timeout: timeout)
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

    /// Percent-encoding as RFC 3986 and Alibaba's canonical query want it: everything but unreserved characters,
    /// UTF-8 bytes in upper-case hex.
    static func rfc3986(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ digest: SHA256.Digest) -> String { hex(Array(digest)) }

    static func hex(_ code: HashedAuthenticationCode<SHA256>) -> String { hex(Array(code)) }

    static func nonce() -> String {
        var g = SystemRandomNumberGenerator()
        return hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    /// `2026-12-05T10:00:00Z`.
    static func isoDate(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    /// `2026-12-05`, the UTC day of a Unix time.
    static func utcDay(_ timestamp: Int64) -> String {
        let days = Int(timestamp / 86400)
        let d = LocalDate(dayNumber: days)
        return String(format: "%04d-%02d-%02d", d.year, d.month, d.day)
    }

    /// `20261205`: the day in Beijing, as Alibaba's `SendDate` wants it.
    static func beijingDay(_ date: Date) -> String {
        let d = LocalDate(dayNumber: Int(((date.timeIntervalSince1970 + 8 * 3600) / 86400).rounded(.down)))
        return String(format: "%04d%02d%02d", d.year, d.month, d.day)
    }

    /// `2026-12-05 18:00:03` in Beijing time, as Alibaba's receipts give it.
    static func beijingMoment(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.date(from: text)
    }
}

/// What a gateway answered, read the same way for both: a code (`OK`/`Ok` for sent), its message, and the id it
/// gave the message.
struct SMSAnswer: Equatable {
    var code: String
    var message: String
    var id: String?

    static func read(provider: SMSSettings.Provider, status: Int, body: String) -> SMSAnswer {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        switch provider {
        case .aliyun:
            guard let object, let code = object["Code"] as? String else {
                return SMSAnswer(code: "HTTP \(status)", message: String(body.prefix(200)), id: nil)
            }
            return SMSAnswer(code: code, message: object["Message"] as? String ?? "", id: object["BizId"] as? String)
        case .tencent:
            guard let response = object?["Response"] as? [String: Any] else {
                return SMSAnswer(code: "HTTP \(status)", message: String(body.prefix(200)), id: nil)
            }
            if let error = response["Error"] as? [String: Any] {
                return SMSAnswer(
                    code: error["Code"] as? String ?? "Error", message: error["Message"] as? String ?? "", id: nil)
            }
            guard let first = (response["SendStatusSet"] as? [[String: Any]])?.first else {
                return SMSAnswer(code: "HTTP \(status)", message: "no SendStatusSet in the answer", id: nil)
            }
            return SMSAnswer(
                code: first["Code"] as? String ?? "", message: first["Message"] as? String ?? "",
                id: first["SerialNo"] as? String)
        }
    }

    /// What the answer means: sent, or a refusal and what to do.
    enum Meaning: Equatable {
        case sent, throttled, quota, badNumber, badTemplate, badSignName, badKey, clock, busy, other
    }

    var meaning: Meaning {
        switch code {
        case "OK", "Ok": return .sent
        case "isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User", "Throttling",
            "RequestLimitExceeded", "LimitExceeded.PhoneNumberThirtySecondLimit",
            "LimitExceeded.PhoneNumberOneHourLimit", "LimitExceeded.PhoneNumberDailyLimit",
            "LimitExceeded.PhoneNumberSameContentDailyLimit", "LimitExceeded.DeliveryFrequencyLimit":
            return .throttled
        case "isv.AMOUNT_NOT_ENOUGH", "isv.OUT_OF_SERVICE", "FailedOperation.InsufficientBalanceInSmsPackage":
            return .quota
        case "LimitExceeded.AppDailyLimit", "LimitExceeded.DailyLimit":
            // The account's own daily cap, set in the console: waits for tomorrow like any throttling.
            return .throttled
        case "AuthFailure.SignatureExpire", "InvalidTimeStamp.Expired", "InvalidTimeStamp":
            return .clock
        case "isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "InvalidParameterValue.IncorrectPhoneNumber",
            "FailedOperation.PhoneNumberInBlacklist", "isv.BLACK_KEY_CONTROL_LIMIT",
            "FailedOperation.PhoneNumberOnBlacklist":
            return .badNumber
        case "isv.SMS_TEMPLATE_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS", "isv.TEMPLATE_PARAMS_ILLEGAL",
            "isv.INVALID_JSON_PARAM", "isv.PARAM_LENGTH_LIMIT", "FailedOperation.TemplateIncorrectOrUnapproved",
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            "InvalidParameterValue.TemplateParameterFormatError", "InvalidParameterValue.TemplateParameterLengthLimit",
            "FailedOperation.MissingTemplateToModify":
            return .badTemplate
        case "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_SIGN_ILLEGAL", "FailedOperation.SignatureIncorrectOrUnapproved":
            return .badSignName
        case "isp.SYSTEM_ERROR", "isp.GATEWAY_ERROR", "ServiceUnavailable", "InternalError",
            "InternalError.Timeout", "InternalError.SendAndRecvFail", "InternalError.OtherError":
            return .busy
        default:
            if code.hasPrefix("SignatureDoesNotMatch") || code.hasPrefix("InvalidAccessKeyId")
                || code.hasPrefix("AuthFailure") || code.hasPrefix("Forbidden") || code.hasPrefix("InvalidSecretId")
            {
                return .badKey
            }
            if code.hasPrefix("HTTP 5") || code == "HTTP 408" || code == "HTTP 429" { return .busy }
            return .other
        }
    }

    func result(
        provider: SMSSettings.Provider, phone: String, template: String, kind: NoticeKind, fix: String?,
        outboxId: Int64?
    ) -> DeliveryResult {
        let said = "\(provider.rawValue) \(code)\(message.isEmpty ? "" : " (\(message))")"
        let retry = outboxId.map { "'mediationctl outbox retry \($0)'" } ?? "send again"
        let templateKey: String =
            switch kind {
            case .notice, .added: "notice"
            case .update: "update"
            case .cancel, .removed: "cancel"
            default: "reminder"
            }
        switch meaning {
        case .sent:
            guard let id, !id.isEmpty else { return .transient("sms: \(said) without a message id") }
            return .sent(
                detail: "sms: \(provider.rawValue) took it as \(id)",
                receipt: ReceiptTicket(provider: provider.rawValue, id: id, phone: phone))
        case .throttled:
            return .transient("sms: \(said): the gateway is holding back messages to this number; tried again later")
        case .busy:
            return .transient("sms: \(said): the gateway is busy; tried again later")
        case .clock:
            return .transient(
                "sms: \(said): the gateway finds this server's clock off: set it right (timedatectl, NTP); tried "
                    + "again later")
        case .quota:
            return .transient(
                "\(SMSQuota.marker): \(said): top up the SMS package in the provider's console; the message is "
                    + "tried again")
        case .badNumber:
            let fixing = fix.map { "correct it with '\($0)', then " } ?? "correct it, then "
            return .permanent(
                "sms: \(said): the mobile \(Contact.maskMobile(phone)) is not a number the gateway can send to: "
                    + fixing + retry)
        case .badTemplate:
            return .permanent(
                "sms: \(said): template \(template) is not approved for these parameters (number, time, link): set "
                    + "sms.templates.\(templateKey) to an approved template and send SIGHUP, then \(retry)")
        case .badSignName:
            return .permanent(
                "sms: \(said): the signature name is not approved: set sms.sign_name to the approved 签名 and send "
                    + "SIGHUP, then \(retry)")
        case .badKey:
            return .permanent(
                "sms: \(said): the gateway refused the key: check sms.key_id and sms.key_secret_file and send "
                    + "SIGHUP, then \(retry)")
        case .other:
            return .permanent("sms: \(said), then \(retry)")
        }
    }
}

/// Personal messages by SMS through a gateway (`SMSGateway`): a template per kind of message, filled with the
/// dispute's number, the time in the recipient's zone and the link to the recipient's own page.
public struct SMSChannel: NotificationChannel {
    public let name = "sms"
    public let reach = ChannelReach.personal
    public let keepsQuietHours = false
    public let gateway: SMSGateway

    public init(gateway: SMSGateway) { self.gateway = gateway }

    /// A message for one person with a mobile, of a kind that has a template, with a page to link to.
    public func accepts(_ message: PreparedMessage) -> Bool {
        message.isPersonal && message.notice.recipientMobile != nil
            && gateway.settings.template(for: message.notice.kind) != nil && message.notice.page != nil
    }

    public func deliver(_ batch: [PreparedMessage], taken: @escaping @Sendable (String) -> Void) async
        -> [DeliveryResult]
    {
        let lanes = min(gateway.settings.concurrency, batch.count)
        return await withTaskGroup(of: (Int, DeliveryResult).self) { group in
            var results = [DeliveryResult](repeating: .transient("not sent"), count: batch.count)
            var next = 0
            func start(_ i: Int) {
                let m = batch[i]
                group.addTask { [gateway] in
                    guard let mobile = m.notice.recipientMobile, let link = m.notice.page else {
                        return (i, .permanent("sms: no mobile or page for this message"))
                    }
                    let result = await gateway.send(
                        to: mobile, kind: m.notice.kind,
                        parameters: SMSParameters(number: m.notice.disputeNumber, time: m.notice.shortTime, link: link),
                        reference: m.notice.reference, fix: m.corrections[.mobile], outboxId: m.outboxId)
                    if case .sent = result { taken(m.notice.messageID) }
                    return (i, result)
                }
            }
            while next < lanes {
                start(next)
                next += 1
            }
            for await (i, result) in group {
                results[i] = result
                if next < batch.count {
                    start(next)
                    next += 1
                }
            }
            return results
        }
    }
}
