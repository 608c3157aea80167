import Foundation

/// The plain rows the reports are computed from; the store reads them, the functions here only count.

/// A dispute still open (not resolved, referred or closed).
public struct OpenDisputeRow: Sendable, Hashable, Codable {
    public var id: Int64
    public var number: String
    public var officeId: String
    public var risk: RiskLevel
    public var status: DisputeStatus
    public var openedAt: Date
    public init(id: Int64, number: String, officeId: String, risk: RiskLevel, status: DisputeStatus, openedAt: Date) {
        self.id = id
        self.number = number
        self.officeId = officeId
        self.risk = risk
        self.status = status
        self.openedAt = openedAt
    }
}

/// A session's time and status.
public struct SessionRow: Sendable, Hashable, Codable {
    public var id: Int64
    public var officeId: String
    public var start: Date
    public var status: SessionStatus
    public init(id: Int64, officeId: String, start: Date, status: SessionStatus) {
        self.id = id
        self.officeId = officeId
        self.start = start
        self.status = status
    }
}

/// An outcome with what the reports group it by.
public struct OutcomeRow: Sendable, Hashable, Codable {
    public var sessionId: Int64
    public var disputeId: Int64
    public var officeId: String
    public var category: String
    public var result: OutcomeResult
    /// When the session ended: the moment the outcome belongs to.
    public var heldAt: Date
    public var disputeOpenedAt: Date
    /// The panel.
    public var experts: [Int64]
    public init(
        sessionId: Int64, disputeId: Int64, officeId: String, category: String, result: OutcomeResult, heldAt: Date,
        disputeOpenedAt: Date, experts: [Int64]
    ) {
        self.sessionId = sessionId
        self.disputeId = disputeId
        self.officeId = officeId
        self.category = category
        self.result = result
        self.heldAt = heldAt
        self.disputeOpenedAt = disputeOpenedAt
        self.experts = experts
    }
}

public struct FollowUpRow: Sendable, Hashable, Codable {
    public var id: Int64
    public var officeId: String
    public var dueOn: LocalDate
    public var result: FollowUpResult?
    public var recordedAt: Date?
    public init(id: Int64, officeId: String, dueOn: LocalDate, result: FollowUpResult?, recordedAt: Date?) {
        self.id = id
        self.officeId = officeId
        self.dueOn = dueOn
        self.result = result
        self.recordedAt = recordedAt
    }
}

public struct EscalationRow: Sendable, Hashable, Codable {
    public var id: Int64
    public var disputeId: Int64
    public var officeId: String
    public var category: String
    public var kind: EscalationKind
    public var occurredOn: LocalDate
    public init(
        id: Int64, disputeId: Int64, officeId: String, category: String, kind: EscalationKind, occurredOn: LocalDate
    ) {
        self.id = id
        self.disputeId = disputeId
        self.officeId = officeId
        self.category = category
        self.kind = kind
        self.occurredOn = occurredOn
    }
}

public struct WarningRow: Sendable, Hashable, Codable {
    public var rule: WarningRule
    public var officeId: String
    public var raisedAt: Date
    public init(rule: WarningRule, officeId: String, raisedAt: Date) {
        self.rule = rule
        self.officeId = officeId
        self.raisedAt = raisedAt
    }
}

/// One expert's seat on one session.
public struct SeatRow: Sendable, Hashable, Codable {
    public var sessionId: Int64
    public var expertId: Int64
    public var status: SessionStatus
    public var invitation: Invitation
    public init(sessionId: Int64, expertId: Int64, status: SessionStatus, invitation: Invitation) {
        self.sessionId = sessionId
        self.expertId = expertId
        self.status = status
        self.invitation = invitation
    }
}

public struct ExpertRow: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var role: ExpertRole
    public var active: Bool
    public init(id: Int64, name: String, role: ExpertRole, active: Bool) {
        self.id = id
        self.name = name
        self.role = role
        self.active = active
    }
}

/// Small statistics the reports share.
public enum Stats {
    /// The Gini coefficient of non-negative values: 0 when all are equal, towards 1 when one holds everything.
    /// Σᵢ Σⱼ |xᵢ − xⱼ| / (2 n² mean), computed in O(n log n) on the sorted values.
    public static func gini(_ values: [Double]) -> Double {
        let n = Double(values.count)
        let total = values.reduce(0, +)
        guard n > 0, total > 0 else { return 0 }
        let sorted = values.sorted()
        // Σᵢ (2i − n − 1) xᵢ over 1-based ranks equals half the double sum of differences.
        var weighted = 0.0
        for (i, x) in sorted.enumerated() { weighted += (2 * Double(i + 1) - n - 1) * x }
        return weighted / (n * total)
    }

    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Rounded to `places` decimals, so reports and tests compare the same numbers.
    public static func round(_ x: Double, _ places: Int = 2) -> Double {
        let f = pow(10.0, Double(places))
        return (x * f).rounded() / f
    }
}
