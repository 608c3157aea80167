import Foundation

/// Video rooms for sessions (`rooms.*`), as the API and the console need them.
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

/// The outbox as a change that queues messages tells it: the API's bookings and the console's call the same two.
public protocol ChangeNotices: Sendable {
    /// A change that queues messages (a booking, say) has begun: hold the notices until it ends, so that a burst
    /// of bookings is written before its notices are rendered and sent (see `OutboxDispatcher`'s `settle`).
    func changeStarted()

    /// The change begun with `changeStarted()` has ended, committed or not.
    func changeEnded()

    /// A printed document (`agreement`: 人民调解协议书) laid out by the office's templates (`notices.templates`, reloaded
    /// with them), as HTML; nil when there is no template for it.
    func document(_ name: String, _ values: [String: Any]) -> String?

    /// The personal channels the running configuration has (replaced with it on SIGHUP), for `Reach`.
    var personalChannels: PersonalChannels { get }
}

extension ChangeNotices {
    public func document(_ name: String, _ values: [String: Any]) -> String? { nil }
    public var personalChannels: PersonalChannels { .mailOnly }
}

/// No video rooms: sessions are booked without one.
public struct NoRooms: SessionRooms {
    public init() {}
    public func newRoomName() -> String? { nil }
    public func link(
        room: String, participantID: String, name: String, email: String?, moderator: Bool, start: Date, end: Date
    ) throws -> String? { nil }
}

/// No dispatcher to tell (a console driven in process without one).
public struct NoChangeNotices: ChangeNotices {
    public init() {}
    public func changeStarted() {}
    public func changeEnded() {}
}
