import Foundation

/// What a message in the outbox is about.
public enum NoticeKind: String, Sendable, Codable, CaseIterable {
    /// A new booking: the agenda notice to an expert, the notice to a party.
    case notice
    /// Before the session, at one of the configured offsets.
    case reminder
    /// The session moved (same invite, higher sequence).
    case update
    /// The session was cancelled (METHOD:CANCEL).
    case cancel
    /// The expert was taken off the panel (METHOD:CANCEL to them).
    case removed
    /// The expert was put on the panel in someone's place (a new invite).
    case added
    /// A panel member answered the invitation; to the office.
    case rsvp
    /// A follow-up visit (回访) is due today; to the assignee and the office.
    case followup

    /// Whether the message still makes sense once its session is cancelled.
    public var survivesCancellation: Bool { self == .cancel || self == .removed }

    /// Whether the message tells of a change to the session itself (booked, moved, cancelled, panel changed): the
    /// changes the office's group chat hears of in one line each.
    public var changesSession: Bool { [.notice, .update, .cancel, .added, .removed].contains(self) }
}

/// Where a message is in its life.
public enum OutboxStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for its time or its first attempt.
    case pending
    /// Handed to the channel.
    case sent
    /// The last attempt failed; it will be tried again.
    case failed
    /// Given up: a permanent refusal, or too many attempts. `outbox retry` brings it back.
    case dead
    /// Not sent on purpose: its session was cancelled or has passed, or a newer message replaced it.
    case skipped
}

/// Who a message is for.
public enum RecipientKind: String, Sendable, Codable, CaseIterable {
    case expert, party, office
}

/// One message in the outbox: what it is about and for whom. The text is rendered when it is sent, from the
/// session as it is then, so a notice never carries a stale time or panel.
public struct OutboxMessage: Sendable, Equatable, Codable {
    public var id: Int64
    /// Stable across attempts: the local part of the Message-ID, so a receiver can tell a repeat.
    public var token: String
    public var sessionId: Int64
    public var kind: NoticeKind
    public var recipientKind: RecipientKind
    /// The expert's or party's id; 0 for the office.
    public var recipientId: Int64
    /// For reminders: minutes before the start.
    public var offsetMinutes: Int?
    /// The session's sequence when the message was queued (for the invite's SEQUENCE).
    public var sequence: Int
    public var dueAt: Date
    public var status: OutboxStatus
    public var attempts: Int
    public var nextAttemptAt: Date
    /// The channel of the last attempt (or the one that delivered it).
    public var channel: String?
    public var lastError: String?
    public var createdAt: Date
    public var sentAt: Date?

    /// Whether the message is meant for one person (their notice, reminder or link) rather than the office: only a
    /// personal channel may carry it. An invitation answer names the expert who gave it but goes to the office.
    public var isPersonal: Bool { recipientKind != .office && kind != .rsvp }

    /// Whether the message is the office's one line in its group chat about a change to the session.
    public var isGroupLine: Bool { recipientKind == .office && kind.changesSession }

    public init(
        id: Int64 = 0, token: String, sessionId: Int64, kind: NoticeKind, recipientKind: RecipientKind,
        recipientId: Int64, offsetMinutes: Int? = nil, sequence: Int, dueAt: Date, status: OutboxStatus = .pending,
        attempts: Int = 0, nextAttemptAt: Date? = nil, channel: String? = nil, lastError: String? = nil,
        createdAt: Date, sentAt: Date? = nil
    ) {
        self.id = id
        self.token = token
        self.sessionId = sessionId
        self.kind = kind
        self.recipientKind = recipientKind
        self.recipientId = recipientId
        self.offsetMinutes = offsetMinutes
        self.sequence = sequence
        self.dueAt = dueAt
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt ?? dueAt
        self.channel = channel
        self.lastError = lastError
        self.createdAt = createdAt
        self.sentAt = sentAt
    }
}

/// One try at delivering a message.
public struct DeliveryAttempt: Sendable, Equatable, Codable {
    public var at: Date
    public var channel: String
    /// `sent`, `transient` or `permanent`.
    public var result: String
    public var detail: String

    public init(at: Date, channel: String, result: String, detail: String) {
        self.at = at
        self.channel = channel
        self.result = result
        self.detail = detail
    }
}

/// Everything a message is rendered from, read in one transaction when it is sent or previewed.
public struct NoticeContext: Sendable {
    public var message: OutboxMessage
    public var session: Session
    public var dispute: Dispute
    public var office: Office
    /// The panel's experts (and, for `removed`, the expert taken off), by id.
    public var experts: [Int64: Expert]
    public var parties: [Party]
    /// For a follow-up reminder, the visit it is about (its number in `followup record`).
    public var followUpId: Int64?

    public init(
        message: OutboxMessage, session: Session, dispute: Dispute, office: Office, experts: [Int64: Expert],
        parties: [Party], followUpId: Int64? = nil
    ) {
        self.message = message
        self.session = session
        self.dispute = dispute
        self.office = office
        self.experts = experts
        self.parties = parties
        self.followUpId = followUpId
    }

    /// The expert the message is for, when it is for an expert.
    public var expert: Expert? { message.recipientKind == .expert ? experts[message.recipientId] : nil }
    /// The party the message is for, when it is for a party.
    public var party: Party? {
        message.recipientKind == .party ? parties.first { $0.id == message.recipientId } : nil
    }
}

/// Retry timing: exponential backoff with full jitter, capped.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseSeconds: Double
    public var maxSeconds: Double

    public init(maxAttempts: Int = 8, baseSeconds: Double = 30, maxSeconds: Double = 3600) {
        self.maxAttempts = maxAttempts
        self.baseSeconds = baseSeconds
        self.maxSeconds = maxSeconds
    }

    /// The wait before attempt `attempts + 1`, after `attempts` failures: a random point in
    /// [base·2^(n−1) / 2, base·2^(n−1)], capped at `maxSeconds`.
    public func delay<G: RandomNumberGenerator>(afterFailures attempts: Int, using random: inout G) -> Double {
        let ceiling = min(maxSeconds, baseSeconds * pow(2, Double(max(attempts - 1, 0))))
        return Double.random(in: (ceiling / 2)...max(ceiling, ceiling / 2 + 0.001), using: &random)
    }
}

/// One recipient's rendered notice, for `outbox preview`.
public struct NoticePreview: Sendable {
    public var recipientKind: String
    public var recipientId: Int64
    public var recipient: String
    public var address: String?
    public var channels: [String]
    public var language: String
    public var timeZone: String
    public var subject: String
    public var text: String
    public var invite: String?

    public init(
        recipientKind: String, recipientId: Int64, recipient: String, address: String?, channels: [String],
        language: String, timeZone: String, subject: String, text: String, invite: String?
    ) {
        self.recipientKind = recipientKind
        self.recipientId = recipientId
        self.recipient = recipient
        self.address = address
        self.channels = channels
        self.language = language
        self.timeZone = timeZone
        self.subject = subject
        self.text = text
        self.invite = invite
    }
}

/// What a gateway gave back for a message it took, to ask later whether it reached the phone: the provider
/// (`aliyun`, `tencent`), its id for the message (Alibaba's BizId, Tencent's SerialNo) and the number it went to.
public struct ReceiptTicket: Sendable, Equatable, Codable {
    public var provider: String
    public var id: String
    public var phone: String

    public init(provider: String, id: String, phone: String) {
        self.provider = provider
        self.id = id
        self.phone = phone
    }
}

/// Whether an SMS reached the phone, as the gateway's delivery receipt says.
public enum ReceiptState: String, Sendable, Codable, CaseIterable {
    /// Taken by the gateway; no receipt yet.
    case waiting
    /// The operator reported it delivered to the phone.
    case delivered
    /// The operator reported it not delivered (switched off, out of service, blocked).
    case failed
}

/// One SMS's delivery receipt, as `outbox show` reports it.
public struct DeliveryReceipt: Sendable, Equatable, Codable {
    public var provider: String
    public var id: String
    /// The number it went to, masked where it is shown.
    public var phone: String
    public var state: ReceiptState
    /// The operator's words (`DELIVERED`, `用户短信送达成功`, an error code).
    public var detail: String?
    /// When the gateway took it.
    public var sentAt: Date
    /// When the phone received it, by the receipt.
    public var receivedAt: Date?

    public init(
        provider: String, id: String, phone: String, state: ReceiptState, detail: String?, sentAt: Date,
        receivedAt: Date?
    ) {
        self.provider = provider
        self.id = id
        self.phone = phone
        self.state = state
        self.detail = detail
        self.sentAt = sentAt
        self.receivedAt = receivedAt
    }
}

/// The one spelling of a gateway's "quota used up" answer in an attempt's detail, which `status` looks for.
public enum SMSQuota {
    /// How an attempt's detail begins when the gateway refused for want of quota.
    public static let marker = "sms: quota used up"
}
