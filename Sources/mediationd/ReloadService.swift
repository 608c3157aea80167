import Foundation
import Logging
import MediationCore
import MediationNotify
import MediationServer
import ServiceLifecycle
import UnixSignals

/// Rereads the configuration on SIGHUP and applies what can change while serving: the access rules, the notice
/// templates and channels, the follow-up plan (`followups.*`) and the early-warning rules (`warnings.*`).
/// An invalid file keeps the old configuration, and one log line says why.
struct ReloadService: Service {
    let file: String?
    let policy: AccessPolicy
    let privacy: PrivacyPolicy
    let dispatcher: OutboxDispatcher
    let link: @Sendable (String, String, String, String?, Bool, Date, Date) throws -> String?
    let info: ServerInfo
    let monitor: WarningMonitor
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                let fresh = try await DaemonConfiguration.load(file: file)
                let templates = try NoticeTemplates.load(directory: fresh.notices.templatesDirectory)
                policy.update(fresh.access)
                info.followUps = fresh.outcomes.followUps
                monitor.reconfigure(settings: fresh.outcomes.warnings)
                fresh.privacy.apply(to: privacy)
                var renderer = NoticeRenderer(settings: fresh.notices.settings, templates: templates, link: link)
                // The web listener and its address change only with a restart: its pages stay as they were.
                renderer.personalPages = dispatcher.renderer.personalPages
                dispatcher.reconfigure(
                    renderer: renderer,
                    channels: fresh.notices.channels(spool: fresh.spoolDirectory), retry: fresh.notices.retry)
                logger.notice("configuration reloaded", metadata: ["source": "\(fresh.source)"])
                warnAboutMissingGroups(policy, logger: logger)
            } catch {
                let why = (error as? MediationError)?.message ?? String(describing: error)
                logger.error("reload refused; the old configuration stays", metadata: ["why": "\(why)"])
            }
        }
    }
}

/// Evaluates the early-warning rules on their timer until the daemon shuts down.
struct WarningService: Service {
    let monitor: WarningMonitor

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await monitor.run()
        }
    }
}

/// Runs the outbox dispatcher until the daemon shuts down.
struct DispatcherService: Service {
    let dispatcher: OutboxDispatcher

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await dispatcher.run()
        }
    }
}
