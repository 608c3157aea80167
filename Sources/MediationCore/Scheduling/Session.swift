import Foundation

/// Where a session stands. The moves between them are the only ones `SessionStatus.check` allows.
public enum SessionStatus: String, Sendable, Codable, CaseIterable {
    case booked
    case inSession = "in_session"
    case ended
    case noShow = "no_show"
    case cancelled

    public var next: [SessionStatus] {
        switch self {
        case .booked: [.inSession, .noShow, .cancelled]
        case .inSession: [.ended]
        case .ended, .noShow, .cancelled: []
        }
    }

    /// Checks a move.
    ///
    /// - Throws: `conflict` naming the session and where it may go instead.
    public func check(_ target: SessionStatus, session: Int64) throws {
        guard next.contains(target) else {
            let options =
                next.isEmpty
                ? "a \(rawValue) session is final; book a new one for the dispute if it is needed"
                : "from \(rawValue) it can become: \(next.map(\.rawValue).joined(separator: ", "))"
            let optionsZh =
                next.isEmpty
                ? "“\(Words.sessionStatus(self, .zh))”的调解已是最终状态，如仍需调解请为该纠纷重新预约"
                : "可改为：\(next.map { Words.sessionStatus($0, .zh) }.joined(separator: "、"))"
            throw MediationError.said(
                .conflict, en: "session #\(session) is \(rawValue); it cannot become \(target.rawValue) (\(options))",
                zh: "调解场次 #\(session) 现为“\(Words.sessionStatus(self, .zh))”，"
                    + "不能改为“\(Words.sessionStatus(target, .zh))”（\(optionsZh)）")
        }
    }
}

/// A panel member's answer to the invitation.
public enum Invitation: String, Sendable, Codable, CaseIterable {
    case pending, accepted, declined

    public init?(parsing text: String) {
        switch text.trimmingWhitespace().lowercased() {
        case "pending", "待定": self = .pending
        case "accepted", "accept", "yes", "接受", "同意": self = .accepted
        case "declined", "decline", "no", "拒绝", "谢绝": self = .declined
        default: return nil
        }
    }
}

/// One seat of a booked panel.
public struct PanelMember: Sendable, Hashable, Codable {
    public var expertId: Int64
    public var requirementIndex: Int
    public var requirement: PanelRequirement
    public var invitation: Invitation
    /// The lead expert moderates the video room.
    public var lead: Bool

    public init(
        expertId: Int64, requirementIndex: Int, requirement: PanelRequirement, invitation: Invitation = .pending,
        lead: Bool = false
    ) {
        self.expertId = expertId
        self.requirementIndex = requirementIndex
        self.requirement = requirement
        self.invitation = invitation
        self.lead = lead
    }
}

/// A booked mediation session of a dispute.
public struct Session: Sendable, Hashable, Codable {
    public var id: Int64
    public var disputeId: Int64
    public var officeId: String
    public var start: Date
    public var end: Date
    public var status: SessionStatus
    /// Rises with every reschedule or panel change, for calendar updates.
    public var sequence: Int
    /// The video room's name (unguessable), or nil when the office uses no rooms.
    public var room: String?
    public var panel: [PanelMember]
    public var cancelReason: String?
    /// Why the session was booked outside the office's hours (`--outside-hours --reason`); nil when it lies inside
    /// them. Such a session keeps its freedom from office hours when it is moved or its panel changes.
    public var outsideHoursReason: String?

    public init(
        id: Int64 = 0, disputeId: Int64, officeId: String, start: Date, end: Date, status: SessionStatus = .booked,
        sequence: Int = 0, room: String? = nil, panel: [PanelMember], cancelReason: String? = nil,
        outsideHoursReason: String? = nil
    ) {
        self.id = id
        self.disputeId = disputeId
        self.officeId = officeId
        self.start = start
        self.end = end
        self.status = status
        self.sequence = sequence
        self.room = room
        self.panel = panel
        self.cancelReason = cancelReason
        self.outsideHoursReason = outsideHoursReason
    }

    public var interval: Interval { Interval(start: start, end: end) }

    /// Sessions that hold their experts' time (booked or under way, or already held).
    public var occupiesExperts: Bool { status == .booked || status == .inSession || status == .ended }
}

extension Session {
    /// Checks that the session may be marked `target` at `now`, after `SessionStatus.check` allowed the move: it is
    /// started no earlier than `startMarginMinutes` before its start, ended not before its start, and missed (a
    /// no-show) only once its start has passed. Times in the message are the office's (`zone`).
    ///
    /// For example, a session at 14:00 with a margin of 30 minutes can be started from 13:30 and ended from 14:00.
    /// - Throws: `conflict` saying from when the move is possible.
    public func checkMarkable(_ target: SessionStatus, now: Date, startMarginMinutes: Int, zone: Zone) throws {
        let earliest: Date
        let what: String
        let whatZh: String
        switch target {
        case .inSession:
            earliest = start.addingTimeInterval(-TimeInterval(startMarginMinutes * 60))
            what = "started from \(zone.format(earliest)) (\(startMarginMinutes) minutes before its start)"
            whatZh = "最早可在 \(Words.moment(earliest, zone, .zh)) 标记开始（开始前 \(startMarginMinutes) 分钟）"
        case .ended:
            earliest = start
            what = "ended from its start"
            whatZh = "开始之后才能标记结束"
        case .noShow:
            // A no-show is known only once the start has come without the parties.
            earliest = start
            what = "marked a no-show from its start"
            whatZh = "开始之后才能标记缺席"
        case .booked, .cancelled:
            return
        }
        guard now < earliest else { return }
        throw MediationError.said(
            .conflict,
            en: "session #\(id) starts \(zone.format(start)); it can be \(what), not at \(zone.format(now))",
            zh: "调解场次 #\(id) 于 \(Words.moment(start, zone, .zh)) 开始，\(whatZh)；现在是 \(Words.moment(now, zone, .zh))")
    }

    /// Whether the room links of the session are handed out: only while it is booked or under way. A cancelled,
    /// ended or missed session's links would let anyone holding one into a room that has no business being open.
    ///
    /// - Throws: `conflict` naming the session's status.
    public func checkLinksAvailable() throws {
        guard status == .booked || status == .inSession else {
            throw MediationError.said(
                .conflict,
                en: "session #\(id) is \(status.rawValue); its room links are given out only while it is booked or "
                    + "in session"
                    + (status == .cancelled ? " (a session booked anew for the dispute gets a new room)" : ""),
                zh: "调解场次 #\(id) 现为“\(Words.sessionStatus(status, .zh))”，只有已预约或进行中的调解才提供视频会议室链接"
                    + (status == .cancelled ? "（为该纠纷重新预约的调解会有新的会议室）" : ""))
        }
    }
}
