import Configuration
import Foundation
import MediationCore

/// The `followups.*` and `warnings.*` keys, checked.
struct OutcomeConfiguration: Sendable {
    var followUps: FollowUpPolicy
    var warnings: WarningSettings
    var checkIntervalMinutes: Int

    static let keys: [String: ConfigurationSchema.Shape] = [
        "followups.after_agreement_days": .list, "followups.high_risk_extra_days": .list, "warnings.rules": .list,
        "warnings.stalled_high_risk_days": .value, "warnings.no_shows": .value,
        "warnings.check_interval_minutes": .value,
    ]

    /// - Throws: `invalidInput` naming the key and what it accepts.
    static func read(_ c: ConfigReader) throws -> OutcomeConfiguration {
        func days(_ key: String, _ fallback: [Int]) throws -> [Int] {
            try c.stringArray(forKey: ConfigKey(key), default: fallback.map(String.init)).map { text in
                guard let n = Int(text.trimmingWhitespace()) else {
                    throw MediationError.invalidInput("\(key): '\(text)' is not a whole number of days")
                }
                return n
            }
        }
        let policy = try FollowUpPolicy(
            afterAgreementDays: days("followups.after_agreement_days", [3, 30]),
            highRiskExtraDays: days("followups.high_risk_extra_days", [1, 7])
        ).validated()
        var rules = Set<WarningRule>()
        for text in c.stringArray(forKey: "warnings.rules", default: WarningRule.allCases.map(\.rawValue)) {
            guard let rule = WarningRule(rawValue: text.trimmingWhitespace().lowercased()) else {
                throw MediationError.invalidInput(
                    "warnings.rules: '\(text)' is not a rule",
                    hint: "use " + WarningRule.allCases.map(\.rawValue).joined(separator: ", "))
            }
            rules.insert(rule)
        }
        return OutcomeConfiguration(
            followUps: policy,
            warnings: WarningSettings(
                rules: rules,
                stalledDays: try c.wholeNumber("warnings.stalled_high_risk_days", default: 3, in: 1...365),
                noShows: try c.wholeNumber("warnings.no_shows", default: 2, in: 1...100)),
            checkIntervalMinutes: try c.wholeNumber("warnings.check_interval_minutes", default: 15, in: 1...1440))
    }
}
