import Foundation
import Logging
import MediationCore
import MediationStore
import Synchronization

/// Evaluates the early-warning rules on a timer and on demand, and hands each new warning to the office's duty
/// channel once: the WeCom robot when there is one, else the DingTalk robot, else a shared webhook, else mail to
/// `notices.office_email` (the From address when unset) by SMTP or the maildir spool. Every warning is also
/// written to the log. A warning is marked delivered (with its channel) only after the channel took it; one that
/// failed is tried again at the next check, so it is sent once, or again only after a crash in between.
public final class WarningMonitor: Sendable {
    let db: AppDatabase
    private let current: Mutex<WarningSettings>
    /// The rules in force (`warnings.*`; SIGHUP may change them).
    public var settings: WarningSettings { current.withLock { $0 } }
    let interval: Duration
    /// The clock the timer sleeps on.
    let clock: any WallClock
    let logger: Logger
    /// Where the duty channel comes from: the dispatcher's channels and settings in force.
    let dispatcher: OutboxDispatcher?

    public init(
        db: AppDatabase, settings: WarningSettings, interval: Duration = .seconds(900),
        dispatcher: OutboxDispatcher? = nil, clock: any WallClock = SystemWallClock(),
        logger: Logger = Logger(label: "mediationd.warnings")
    ) {
        self.clock = clock
        self.dispatcher = dispatcher
        self.db = db
        self.current = Mutex(settings)
        self.interval = interval
        self.logger = logger
    }

    /// New rules (SIGHUP); the next check uses them.
    public func reconfigure(settings: WarningSettings) { current.withLock { $0 = settings } }

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
                    "message": "\(w.message)",
                ])
            guard let dispatcher else {
                try await db.markWarningsDelivered([w.id], channel: "log")
                continue
            }
            let (channel, message) = duty(w, dispatcher)
            let result = await channel.deliver([message]).first ?? .transient("no answer")
            if result.isSent {
                // Recorded before the next is sent: when the store refuses the record (a full disk), the check
                // stops here, and the next one sends this warning again, never all of them again and again.
                try await db.markWarningsDelivered([w.id], channel: channel.name)
            } else {
                logger.error(
                    "early warning not delivered; tried again at the next check",
                    metadata: ["warning": "\(w.id)", "channel": "\(channel.name)", "why": "\(result.detail)"])
            }
        }
        return raised
    }

    /// The office's duty channel and the warning as it carries it.
    func duty(_ w: EarlyWarning, _ dispatcher: OutboxDispatcher) -> (any NotificationChannel, PreparedMessage) {
        let channels = dispatcher.channels
        let settings = dispatcher.renderer.settings
        let channel = channels.shared.first ?? channels.mail
        // Said in the office's language (Chinese unless configured otherwise), with the rule by its name.
        let language = Language(rawValue: settings.defaultLanguage) ?? .zh
        let message = Words.warningMessage(w.message, language)
        let rule = Words.warningRule(w.rule, language)
        let subject =
            language == .zh ? "【预警】\(w.officeId)：\(message)" : "[early warning] \(w.officeId): \(message)"
        let text =
            language == .zh
            ? "\(message)\n规则：\(rule)（\(w.rule.rawValue)）；对象：\(w.subject)\n"
            : "\(message)\nrule: \(rule); subject: \(w.subject)\n"
        let to = settings.officeEmail ?? settings.from.address
        let id = "<warning-\(w.id)@\(settings.domain)>"
        let notice = RenderedNotice(
            language: settings.defaultLanguage, subject: subject, text: text, recipientName: w.officeId,
            recipientEmail: to, recipientMobile: nil, preferredChannel: nil, timeZone: "Asia/Shanghai",
            messageID: id)
        let json =
            (try? JSONSerialization.data(
                withJSONObject: [
                    "messageId": id, "kind": "warning", "rule": w.rule.rawValue, "office": w.officeId,
                    "subject": w.subject, "text": message,
                ], options: [.sortedKeys])) ?? Data()
        return (
            channel,
            PreparedMessage(
                outboxId: 0, notice: notice,
                mail: OutgoingMail(
                    from: settings.from, to: [MailAddress(to)], subject: subject, text: text, messageID: id,
                    date: Date()),
                chat: ChatMessage(title: subject, markdown: "### \(subject)\n\n\(text)", text: subject + "\n" + text),
                json: json, isPersonal: false)
        )
    }

    /// Checks at start and then every `interval` until cancelled; a failed check is logged and retried next time.
    public func run() async {
        await PeriodicTimer.run(every: interval, on: clock) {
            do { try await check() } catch {
                // Stopped mid-check (the daemon is shutting down, or never got to serve): nothing failed.
                if Task.isCancelled { return }
                logger.error("warning check failed", metadata: ["why": "\(String(describing: error))"])
            }
        }
    }
}
