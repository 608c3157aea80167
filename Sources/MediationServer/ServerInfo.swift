import Foundation
import MediationCore
import Synchronization

/// Video rooms for sessions (`rooms.*`), as the API needs them.
public protocol SessionRooms: Sendable {
    /// A new room's name for a booking, or nil when the office uses no rooms (`rooms.provider: none`).
    func newRoomName() -> String?

    /// One participant's own link to `room` for a session from `start` to `end`, or nil when there are no rooms.
    ///
    /// - Throws: when the link cannot be made (a Jitsi secret that cannot sign).
    func link(
        room: String, participantID: String, name: String, email: String?, moderator: Bool, start: Date, end: Date
    ) throws -> String?
}

/// The outbox dispatcher as the API needs it: told of new messages, asked for previews and test messages.
public protocol NoticeDispatch: Sendable {
    /// The outbox has new messages (a retry asked for): look at it now.
    func outboxChanged()

    /// A change that queues messages (a booking, say) has begun: hold the notices until it ends, so that a burst
    /// of bookings is written before its notices are rendered and sent (see `OutboxDispatcher`'s `settle`).
    func changeStarted()

    /// The change begun with `changeStarted()` has ended, committed or not.
    func changeEnded()

    /// What each recipient of a session's notices would receive, rendered.
    func preview(session: Int64) async throws -> [NoticePreview]

    /// Sends a test message through `channel` (smtp, maildir, webhook, wecom, dingtalk) to `to`, now.
    ///
    /// - Throws: `unavailable` when the channel is not configured.
    func sendTest(channel: String, to: String) async throws -> ChannelTestAnswer
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

/// No video rooms: sessions are booked without one.
public struct NoRooms: SessionRooms {
    public init() {}
    public func newRoomName() -> String? { nil }
    public func link(
        room: String, participantID: String, name: String, email: String?, moderator: Bool, start: Date, end: Date
    ) throws -> String? { nil }
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
