import Foundation

/// The office-wide scheduling settings from the configuration (`scheduling.*`, `panels.*`).
public struct SchedulingRules: Sendable, Equatable {
    public var minimumNoticeMinutes: Int
    public var bufferMinutes: Int
    public var holidays: [LocalDate]
    /// Disputes at or above this risk always get a legal officer on the panel; nil turns the rule off.
    public var legalOfficerFromRisk: RiskLevel?
    /// The policy used when a request names none and the category has none.
    public var defaultPolicy: String
    /// Policies by dispute category, e.g. property → property.
    public var policyByCategory: [String: String]
    /// Reminders before each session, in minutes (`notices.reminders`); 24 h and 1 h by default.
    public var reminderOffsetsMinutes: [Int] = [1440, 60]
    /// How long before its start a session may be marked started (`scheduling.start_margin_minutes`, default 30).
    public var startMarginMinutes: Int = 30

    public init(
        minimumNoticeMinutes: Int = 120, bufferMinutes: Int = 30, holidays: [LocalDate] = [],
        legalOfficerFromRisk: RiskLevel? = .high, defaultPolicy: String = "standard",
        policyByCategory: [String: String] = [:]
    ) {
        self.minimumNoticeMinutes = minimumNoticeMinutes
        self.bufferMinutes = bufferMinutes
        self.holidays = holidays
        self.legalOfficerFromRisk = legalOfficerFromRisk
        self.defaultPolicy = defaultPolicy
        self.policyByCategory = policyByCategory
    }

    /// The policy name for a dispute: the one asked for, else the category's, else the default.
    public func policyName(requested: String?, category: String) -> String {
        Text.nonEmpty(requested)?.lowercased() ?? policyByCategory[category] ?? defaultPolicy
    }
}
