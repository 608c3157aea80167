import Logging
import MediationServer
import ServiceLifecycle
import UnixSignals

/// Rereads the configuration on SIGHUP and applies what can change while serving (the access rules).
/// An invalid file keeps the old configuration, and the log says why.
struct ReloadService: Service {
    let file: String?
    let policy: AccessPolicy
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                let fresh = try await DaemonConfiguration.load(file: file)
                policy.update(fresh.access)
                logger.notice("configuration reloaded", metadata: ["source": "\(fresh.source)"])
                warnAboutMissingGroups(policy, logger: logger)
            } catch {
                logger.error(
                    "reload refused; the old configuration stays", metadata: ["why": "\(String(describing: error))"])
            }
        }
    }
}
