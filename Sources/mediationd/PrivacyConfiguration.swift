import Configuration
import Foundation
import Logging
import MediationCore
import MediationServer
import MediationStore
import ServiceLifecycle

/// The `privacy.*` keys, checked: who may reveal parties' full numbers, and how long they are kept.
struct PrivacyConfiguration: Sendable {
    var revealRoles: Set<Role>
    var retentionMonths: Int
    var retentionCheckHours: Int

    static let keys: [String: ConfigurationSchema.Shape] = [
        "privacy.reveal_roles": .list, "privacy.retention_months": .value, "privacy.retention_check_hours": .value,
    ]

    /// - Throws: `invalidInput` naming the key and what it accepts.
    static func read(_ c: ConfigReader) throws -> PrivacyConfiguration {
        return PrivacyConfiguration(
            revealRoles: try PrivacyPolicy.roles(
                c.stringArray(forKey: "privacy.reveal_roles", default: ["admin"]).filter { !$0.isEmpty }),
            retentionMonths: try c.wholeNumber("privacy.retention_months", default: 24, in: 1...1200, unit: "months"),
            retentionCheckHours: try c.wholeNumber(
                "privacy.retention_check_hours", default: 24, in: 1...720, unit: "hours"))
    }

    /// Applies the keys to the running policy (at start and on reload).
    func apply(to policy: PrivacyPolicy) {
        policy.update(revealRoles: revealRoles, retentionMonths: retentionMonths)
    }
}

/// Applies the retention policy at start and then every `privacy.retention_check_hours`, as the daemon itself
/// (audit role `system`), until the daemon shuts down.
struct RetentionService: Service {
    let db: AppDatabase
    let privacy: PrivacyPolicy
    let interval: Duration
    /// The clock the timer sleeps on.
    let clock: any WallClock
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await PeriodicTimer.run(every: interval, on: clock) { await runOnce() }
        }
    }

    private func runOnce() async {
        let months = privacy.retentionMonths
        do {
            let report = try await AuditActor.$current.withValue(AuditActor.system(uid: getuid())) {
                try await db.applyRetention(months: months, dryRun: false)
            }
            if report.parties > 0 {
                logger.notice(
                    "retention: contact details and ID numbers removed",
                    metadata: ["parties": "\(report.parties)", "disputes": "\(report.disputes)", "months": "\(months)"])
            }
        } catch {
            // Stopped mid-run (the daemon is shutting down, or never got to serve): nothing failed.
            guard !Task.isCancelled else { return }
            logger.error("retention run failed; it runs again later", metadata: ["why": "\(error)"])
        }
    }
}
