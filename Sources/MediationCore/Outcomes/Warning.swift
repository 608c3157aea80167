import Foundation

/// The early-warning rules (`warnings.rules` in the configuration).
public enum WarningRule: String, Sendable, Codable, CaseIterable {
    /// A high or critical dispute waiting without a booked session for more than N days.
    case stalledHighRisk = "stalled_high_risk"
    /// A follow-up visit found the dispute relapsed.
    case relapse
    /// A dispute whose sessions were missed (no-show) twice or more.
    case noShows = "no_shows"
    /// A follow-up visit whose day has passed without a result.
    case overdueFollowUp = "overdue_followup"

    public var chinese: String {
        switch self {
        case .stalledHighRisk: "高风险未排期"
        case .relapse: "回访反复"
        case .noShows: "多次缺席"
        case .overdueFollowUp: "回访逾期"
        }
    }
}

/// One raised warning; stored once per rule and subject.
public struct EarlyWarning: Sendable, Hashable, Codable {
    public var id: Int64
    public var rule: WarningRule
    /// `dispute:12` or `followup:7`: what the warning is about. With `rule`, unique.
    public var subject: String
    public var disputeId: Int64
    public var officeId: String
    public var message: String
    public var raisedAt: Date
    /// When it went to the office's duty channel, and which channel took it.
    public var deliveredAt: Date?
    public var channel: String?

    public init(
        id: Int64 = 0, rule: WarningRule, subject: String, disputeId: Int64, officeId: String, message: String,
        raisedAt: Date, deliveredAt: Date? = nil, channel: String? = nil
    ) {
        self.id = id
        self.rule = rule
        self.subject = subject
        self.disputeId = disputeId
        self.officeId = officeId
        self.message = message
        self.raisedAt = raisedAt
        self.deliveredAt = deliveredAt
        self.channel = channel
    }
}

/// The warning rules' settings.
public struct WarningSettings: Sendable, Hashable {
    public var rules: Set<WarningRule>
    /// Days a high or critical dispute may wait without a booked session.
    public var stalledDays: Int
    /// No-shows that raise a warning.
    public var noShows: Int

    public init(rules: Set<WarningRule> = Set(WarningRule.allCases), stalledDays: Int = 3, noShows: Int = 2) {
        self.rules = rules
        self.stalledDays = stalledDays
        self.noShows = noShows
    }
}

/// What the rules look at, read by the store as plain rows.
public struct WarningInput: Sendable {
    /// A dispute still needing work: its risk, status, and since when it has had that status.
    public struct WaitingDispute: Sendable {
        public var id: Int64
        public var number: String
        public var officeId: String
        public var risk: RiskLevel
        public var status: DisputeStatus
        public var waitingSince: Date
        public init(
            id: Int64, number: String, officeId: String, risk: RiskLevel, status: DisputeStatus, waitingSince: Date
        ) {
            self.id = id
            self.number = number
            self.officeId = officeId
            self.risk = risk
            self.status = status
            self.waitingSince = waitingSince
        }
    }
    /// A dispute and how many of its sessions were missed.
    public struct NoShowCount: Sendable {
        public var disputeId: Int64
        public var number: String
        public var officeId: String
        public var count: Int
        public init(disputeId: Int64, number: String, officeId: String, count: Int) {
            self.disputeId = disputeId
            self.number = number
            self.officeId = officeId
            self.count = count
        }
    }
    public var disputes: [WaitingDispute]
    public var noShows: [NoShowCount]
    /// Follow-ups with their dispute number.
    public var followUps: [(FollowUp, String)]
    /// Each office's zone, for "today".
    public var zones: [String: Zone]

    public init(
        disputes: [WaitingDispute], noShows: [NoShowCount], followUps: [(FollowUp, String)], zones: [String: Zone]
    ) {
        self.disputes = disputes
        self.noShows = noShows
        self.followUps = followUps
        self.zones = zones
    }
}

/// The early-warning rules as a pure function of what the store read and the time.
public enum WarningRules {
    /// Every warning the rules raise now; the store keeps only those not raised before.
    ///
    /// - Throws: `unavailable` for a follow-up of an office whose zone the input lacks: its "today" is never
    ///   another office's.
    public static func evaluate(_ input: WarningInput, settings: WarningSettings, now: Date) throws -> [EarlyWarning] {
        var out: [EarlyWarning] = []
        if settings.rules.contains(.stalledHighRisk) {
            let limit = TimeInterval(settings.stalledDays * 86400)
            for d in input.disputes
            where d.risk >= .high && (d.status == .open || d.status == .unresolved)
                && now.timeIntervalSince(d.waitingSince) > limit
            {
                let days = Int(now.timeIntervalSince(d.waitingSince) / 86400)
                out.append(
                    EarlyWarning(
                        rule: .stalledHighRisk, subject: "dispute:\(d.id)", disputeId: d.id, officeId: d.officeId,
                        message:
                            "\(d.number) is \(d.risk.rawValue) risk and has had no session booked for \(days) days",
                        raisedAt: now))
            }
        }
        if settings.rules.contains(.noShows) {
            for n in input.noShows where n.count >= settings.noShows {
                out.append(
                    EarlyWarning(
                        rule: .noShows, subject: "dispute:\(n.disputeId)", disputeId: n.disputeId, officeId: n.officeId,
                        message: "\(n.number): \(n.count) sessions missed (no-show)", raisedAt: now))
            }
        }
        for (f, number) in input.followUps {
            if settings.rules.contains(.relapse), f.result == .relapsed {
                out.append(
                    EarlyWarning(
                        rule: .relapse, subject: "followup:\(f.id)", disputeId: f.disputeId, officeId: f.officeId,
                        message: "\(number) relapsed at the follow-up visit of \(f.dueOn)", raisedAt: now))
            }
            guard let zone = input.zones[f.officeId] else {
                throw MediationError.unavailable(
                    "follow-up #\(f.id) belongs to office '\(f.officeId)', whose time zone was not read")
            }
            let today = zone.wallClock(now).date
            if settings.rules.contains(.overdueFollowUp), f.isOverdue(today: today) {
                out.append(
                    EarlyWarning(
                        rule: .overdueFollowUp, subject: "followup:\(f.id)", disputeId: f.disputeId,
                        officeId: f.officeId,
                        message: "\(number): the follow-up visit due \(f.dueOn) has no result", raisedAt: now))
            }
        }
        return out
    }
}
