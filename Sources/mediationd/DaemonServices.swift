import Foundation
import MediationCore
import MediationNotify
import MediationServer

/// The video rooms of `rooms.*` for the API and the notices.
struct DaemonRooms: SessionRooms {
    let provider: VideoRoomProvider

    func newRoomName() -> String? { provider == .none ? nil : VideoRooms.newRoomName() }

    func link(
        room: String, participantID: String, name: String, email: String?, moderator: Bool, start: Date, end: Date
    ) throws -> String? {
        try VideoRooms.link(
            provider: provider, room: room,
            participant: RoomParticipant(id: participantID, name: name, email: email, moderator: moderator),
            start: start, end: end)
    }

    /// The same links in the form the notice renderer takes.
    var renderLink: @Sendable (String, String, String, String?, Bool, Date, Date) throws -> String? {
        { [self] room, id, name, email, moderator, start, end in
            try link(
                room: room, participantID: id, name: name, email: email, moderator: moderator, start: start, end: end)
        }
    }
}

/// The outbox dispatcher for the API; test messages go through the channels configured at start.
struct DaemonNotices: NoticeDispatch {
    let dispatcher: OutboxDispatcher
    let settings: NoticeConfiguration
    let spool: String

    func outboxChanged() { dispatcher.wake() }
    func changeStarted() { dispatcher.changeStarted() }
    func changeEnded() { dispatcher.changeEnded() }
    func preview(session: Int64) async throws -> [NoticePreview] { try await dispatcher.preview(session: session) }
    func document(_ name: String, _ values: [String: Any]) -> String? {
        dispatcher.renderer.templates.document(name, values)
    }
    var personalChannels: PersonalChannels { dispatcher.channels.personal }
    func refreshReceipts(message: Int64) async { _ = try? await dispatcher.refreshReceipts(message: message) }

    func sendTest(channel: String, to: String) async throws -> ChannelTestAnswer {
        let (result, detail) = try await dispatcher.test(
            channel: channel, to: to, channels: settings.channels(spool: spool), smtp: settings.smtp, spool: spool)
        return ChannelTestAnswer(result: result, detail: detail)
    }
}

/// The early-warning rules for the API (`warnings check`).
struct DaemonWarnings: WarningCheck {
    let monitor: WarningMonitor

    func checkNow() async throws -> [EarlyWarning] { try await monitor.check() }
}
