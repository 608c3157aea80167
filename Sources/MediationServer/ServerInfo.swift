import Foundation
import MediationCore
import Synchronization

/// The outbox dispatcher as the API needs it: told of new messages, asked for previews and test messages.
public protocol NoticeDispatch: ChangeNotices {
    /// The outbox has new messages (a retry asked for): look at it now.
    func outboxChanged()

    /// What each recipient of a session's notices would receive, rendered.
    func preview(session: Int64) async throws -> [NoticePreview]

    /// Sends a test message through `channel` (smtp, maildir, webhook, wecom, dingtalk) to `to`, now.
    ///
    /// - Throws: `unavailable` when the channel is not configured.
    func sendTest(channel: String, to: String) async throws -> ChannelTestAnswer

    /// Asks the SMS gateway for the delivery receipt of `message` when it is still waiting (and stores it).
    func refreshReceipts(message: Int64) async
}

extension NoticeDispatch {
    public func refreshReceipts(message: Int64) async {}
}

/// What a channel answered to a test message: `sent`, `transient` or `permanent`, and its words.
public struct ChannelTestAnswer: Sendable, Equatable {
    public var result: String
    public var detail: String

    public init(result: String, detail: String) {
        self.result = result
        self.detail = detail
    }
}

/// The early-warning rules (`warnings.*`).
public protocol WarningCheck: Sendable {
    /// Evaluates the rules now, stores and delivers the new warnings, and answers them.
    func checkNow() async throws -> [EarlyWarning]
}

/// No dispatcher: nothing is previewed or sent (a router driven in process without one).
public struct NoNoticeDispatch: NoticeDispatch {
    public init() {}
    public func outboxChanged() {}
    public func changeStarted() {}
    public func changeEnded() {}
    public func preview(session: Int64) async throws -> [NoticePreview] { [] }
    public func sendTest(channel: String, to: String) async throws -> ChannelTestAnswer {
        throw MediationError.unavailable("channel \(channel) is not configured in this daemon")
    }
}

/// No warning rules are evaluated.
public struct NoWarningCheck: WarningCheck {
    public init() {}
    public func checkNow() async throws -> [EarlyWarning] { [] }
}

/// What the API needs from the rest of the daemon: its clock, its configuration in force, and the services it
/// calls (rooms, the outbox dispatcher, the warning rules), each a named protocol.
public struct ServerInfo: Sendable {
    public var startedAt: Date
    public var clock: any WallClock
    /// The dispute categories offices may use (`disputes.categories`).
    public var categories: [String]
    /// Notice, buffer, holidays and panel defaults (`scheduling.*`, `panels.*`).
    public var rules: SchedulingRules
    /// Video rooms for bookings and their links (`rooms.*`).
    public var rooms: any SessionRooms
    /// The outbox dispatcher.
    public var notices: any NoticeDispatch
    /// The right-hand side of Message-IDs (`notices.domain`).
    public var noticeDomain: String
    /// When follow-up visits fall after an agreement (`followups.*`). Copies share it, so a reload reaches all.
    public var followUps: FollowUpPolicy {
        get { followUpsInForce.value.withLock { $0 } }
        nonmutating set { followUpsInForce.value.withLock { $0 = newValue } }
    }
    private let followUpsInForce: SharedMutex<FollowUpPolicy>
    /// The early-warning rules.
    public var warnings: any WarningCheck
    /// Who may reveal parties' full numbers, and the retention period (`privacy.*`); updated on reload.
    public var privacy: PrivacyPolicy
    /// Where people reach the web listener (`web.public_url`, else its `web.listen` address), for the personal
    /// addresses the API hands out; nil when the listener is off.
    public var webBase: String?

    public init(
        startedAt: Date = Date(), clock: any WallClock = SystemWallClock(),
        categories: [String] = Dispute.defaultCategories, rules: SchedulingRules = SchedulingRules(),
        rooms: any SessionRooms = NoRooms(), notices: any NoticeDispatch = NoNoticeDispatch(),
        noticeDomain: String = "mediation.local", followUps: FollowUpPolicy = FollowUpPolicy(),
        warnings: any WarningCheck = NoWarningCheck(), privacy: PrivacyPolicy = PrivacyPolicy()
    ) {
        self.startedAt = startedAt
        self.clock = clock
        self.categories = categories
        self.rules = rules
        self.rooms = rooms
        self.notices = notices
        self.noticeDomain = noticeDomain
        self.followUpsInForce = SharedMutex(followUps)
        self.warnings = warnings
        self.privacy = privacy
    }
}

/// A value behind a lock that copies of its holder share.
final class SharedMutex<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
