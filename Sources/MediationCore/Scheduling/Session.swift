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
            throw MediationError.conflict(
                "session #\(session) is \(rawValue); it cannot become \(target.rawValue) (\(options))")
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

    public init(
        id: Int64 = 0, disputeId: Int64, officeId: String, start: Date, end: Date, status: SessionStatus = .booked,
        sequence: Int = 0, room: String? = nil, panel: [PanelMember], cancelReason: String? = nil
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
    }

    public var interval: Interval { Interval(start: start, end: end) }

    /// Sessions that hold their experts' time (booked or under way, or already held).
    public var occupiesExperts: Bool { status == .booked || status == .inSession || status == .ended }
}
