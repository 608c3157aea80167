import Foundation
import Logging
import MediationCore
import MediationStore

/// Evaluates the early-warning rules on a timer and on demand, and hands each new warning to the office's duty
/// channel once. The duty channel is the daemon's log for now (journald keeps it): every warning is written
/// there at `warning` level and marked delivered with channel `log`, so it is never sent twice.
public final class WarningMonitor: Sendable {
    let db: AppDatabase
    let settings: WarningSettings
    let interval: Duration
    let logger: Logger

    public init(
        db: AppDatabase, settings: WarningSettings, interval: Duration = .seconds(900),
        logger: Logger = Logger(label: "mediationd.warnings")
    ) {
        self.db = db
        self.settings = settings
        self.interval = interval
        self.logger = logger
    }

    /// Runs the rules once: stores the warnings not raised before and delivers every undelivered one.
    /// Answers the warnings raised by this run.
    @discardableResult
    public func check() async throws -> [EarlyWarning] {
        let raised = try await db.checkWarnings(settings: settings)
        let pending = try await db.warnings(undelivered: true)
        for w in pending.reversed() {
            logger.warning(
                "early warning",
                metadata: [
                    "rule": "\(w.rule.rawValue)", "office": "\(w.officeId)", "subject": "\(w.subject)",
                    "message": "\(w.message)", "channel": "log",
                ])
        }
        if !pending.isEmpty { try await db.markWarningsDelivered(pending.map(\.id), channel: "log") }
        return raised
    }

    /// Checks at start and then every `interval` until cancelled; a failed check is logged and retried next time.
    public func run() async {
        while !Task.isCancelled {
            do { try await check() } catch {
                logger.error("warning check failed", metadata: ["why": "\(String(describing: error))"])
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
