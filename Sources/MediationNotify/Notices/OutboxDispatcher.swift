import Foundation
import Logging
import MediationCore
import MediationStore
import Synchronization

/// The channels in use, as the configuration sets them; replaced whole on SIGHUP.
public struct ChannelSet: Sendable {
    /// How mail goes out: SMTP when configured, else the maildir spool.
    public var mail: any NotificationChannel
    public var webhook: (any NotificationChannel)?
    public var wecom: (any NotificationChannel)?
    public var dingtalk: (any NotificationChannel)?
    /// An SMS gateway (`sms.*`): personal, to each recipient's own mobile.
    public var sms: SMSChannel?
    /// WeCom application messages and DingTalk work notifications (`wecom.corp_id`, `dingtalk.app_key`): personal.
    public var wecomApp: WorkChatAppChannel?
    public var dingtalkApp: WorkChatAppChannel?

    public init(
        mail: any NotificationChannel, webhook: (any NotificationChannel)? = nil,
        wecom: (any NotificationChannel)? = nil, dingtalk: (any NotificationChannel)? = nil,
        sms: SMSChannel? = nil, wecomApp: WorkChatAppChannel? = nil, dingtalkApp: WorkChatAppChannel? = nil
    ) {
        self.mail = mail
        self.webhook = webhook
        self.wecom = wecom
        self.dingtalk = dingtalk
        self.sms = sms
        self.wecomApp = wecomApp
        self.dingtalkApp = dingtalkApp
    }

    /// A personal webhook (an office's own SMS relay), when the webhook is one.
    private var personalWebhook: (any NotificationChannel)? { webhook?.reach == .personal ? webhook : nil }

    /// The channels to try for a message, in order. A personal message goes by Core's one rule (`Reach.route`:
    /// the recipient's preference, then mail, WeCom, DingTalk, SMS, each only as a personal channel this set has
    /// and an address the person has), so a person with no personal channel gets no candidate at all and the
    /// clerk was told so when they were added. An office-level line may also go to the group robots and a shared
    /// webhook.
    func candidates(for message: PreparedMessage) -> [any NotificationChannel] {
        guard message.isPersonal else {
            var order: [any NotificationChannel] = []
            for c in [message.notice.recipientEmail != nil ? mail : nil, wecom, dingtalk, webhook].compactMap({ $0 })
            where !order.contains(where: { $0.name == c.name }) {
                order.append(c)
            }
            return order.filter { $0.reach.mayCarry(message) && $0.accepts(message) }
        }
        let notice = message.notice
        return Reach.route(
            email: notice.recipientEmail, mobile: notice.recipientMobile, wecomUser: notice.wecomUser,
            dingtalkMobile: notice.dingtalkMobile, preference: notice.preferredChannel, available: personal
        ).flatMap { kind -> [any NotificationChannel] in
            switch kind {
            case .email: [mail]
            case .sms: [sms, personalWebhook].compactMap { $0 }
            case .wecom: [wecomApp].compactMap { $0 }
            case .dingtalk: [dingtalkApp].compactMap { $0 }
            }
        }.filter { $0.reach == .personal && $0.accepts(message) }
    }

    /// The personal channels this set has, for Core's `Reach`.
    public var personal: PersonalChannels {
        PersonalChannels(
            mail: true, sms: sms != nil || personalWebhook != nil, wecom: wecomApp != nil, dingtalk: dingtalkApp != nil)
    }

    /// The channels read by a group (the robots, a shared webhook), in the order they are tried.
    public var shared: [any NotificationChannel] {
        [wecom, dingtalk, webhook].compactMap { $0 }.filter { $0.reach == .shared }
    }
}

/// Delivers due outbox messages: renders each from the session as it is now, picks the recipient's channel,
/// records every attempt, and retries with backoff until the message is sent or dead.
///
/// A message for a session that was cancelled (other than the cancellation itself) and a reminder for a session
/// that has begun are skipped, never sent. Delivery is at-least-once: a message is marked sent only after its
/// channel took it, so a crash in between sends it again with the same Message-ID. While the outcome of a pass
/// cannot be stored (a full disk), nothing more is sent: the outcomes wait in memory, the store is tried again after
/// a growing wait, and the log hears of it once a minute (see `StoreOutage`).
public final class OutboxDispatcher: Sendable {
    private struct Setup: Sendable {
        var renderer: NoticeRenderer
        var channels: ChannelSet
        var retry: RetryPolicy
    }

    private let db: AppDatabase
    private let setup: Mutex<Setup>
    private let clock: any WallClock
    private let logger: Logger
    private let wakeups = Doorbell()
    private let journal: HandOverJournal?
    /// When the last change that queued messages woke the loop, by the clock.
    private let lastWake = Mutex<Date>(.distantPast)
    /// Changes that queue messages, begun and not yet ended.
    private let changesInFlight = Atomic<Int>(0)
    /// How long the loop waits for changes to stop coming before it sends, and the longest it waits in all.
    private let settle: (quiet: Duration, atMost: Duration)
    /// The loop that asks for SMS receipts, while one runs.
    private let receiptLoop = Mutex<Task<Void, Never>?>(nil)
    /// Receipts the gateway handed over for messages the store did not know yet, offered again at the next poll.
    private let heldReceipts = Mutex<[DeliveryReceipt]>([])
    /// When the SMS gateway was last asked for delivery receipts, by the clock.
    private let lastReceiptPoll = Mutex<Date>(.distantPast)
    /// Outcomes of attempts already made that the store did not take: stored before anything else is sent.
    private let unstored = Mutex<[AttemptRecord]>([])
    /// Whether the store is refusing the outcomes, since when, and when the log last said so.
    private let outage = Mutex(StoreOutage())

    /// `journal` notes each message a channel takes at once (see `HandOverJournal`); nil keeps only the
    /// end-of-pass record. `settle` lets a burst of bookings finish before their notices are rendered and sent on the
    /// same cores: the loop waits while a change is in flight and until none has ended for `quiet`, but never
    /// longer than `atMost`.
    public init(
        db: AppDatabase, renderer: NoticeRenderer, channels: ChannelSet, retry: RetryPolicy,
        clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "mediationd.outbox"),
        journal: HandOverJournal? = nil,
        settle: (quiet: Duration, atMost: Duration) = (.milliseconds(500), .seconds(10))
    ) {
        self.db = db
        self.setup = Mutex(Setup(renderer: renderer, channels: channels, retry: retry))
        self.clock = clock
        self.logger = logger
        self.journal = journal
        self.settle = settle
    }

    /// New templates and channels (SIGHUP).
    public func reconfigure(renderer: NoticeRenderer, channels: ChannelSet, retry: RetryPolicy) {
        setup.withLock { $0 = Setup(renderer: renderer, channels: channels, retry: retry) }
        wake()
    }

    public var renderer: NoticeRenderer { setup.withLock { $0.renderer } }

    /// The channels in force (after the last SIGHUP).
    public var channels: ChannelSet { setup.withLock { $0.channels } }

    /// Asks the loop to look at the outbox now (after a booking, say).
    public func wake() {
        let now = clock.now()
        lastWake.withLock { $0 = now }
        wakeups.ring()
    }

    /// A change that queues messages (a booking, say) has begun: the loop holds off until it ends.
    public func changeStarted() { changesInFlight.add(1, ordering: .relaxed) }

    /// The change has ended (committed or not); the loop looks at the outbox once changes settle.
    public func changeEnded() {
        changesInFlight.subtract(1, ordering: .relaxed)
        wake()
    }

    /// Waits while changes keep coming (a burst of bookings), up to `settle.atMost`, by the clock.
    private func settled() async throws {
        let quiet = settle.quiet.timeInterval
        let atMost = settle.atMost.timeInterval
        let start = clock.now()
        while true {
            let now = clock.now()
            // A clock set back (a test's) makes the last wake-up a moment ago, not one in the future.
            let since = max(now.timeIntervalSince(lastWake.withLock { $0 }), 0)
            let busy = changesInFlight.load(ordering: .relaxed) > 0
            let waited = max(now.timeIntervalSince(start), 0)
            guard busy || since < quiet, waited < atMost else { return }
            let pause = busy ? min(quiet, 0.01) : quiet - since
            try await clock.sleep(until: now.addingTimeInterval(min(pause, atMost - waited)))
        }
    }

    /// Delivers until cancelled: every due message, then sleeps until the next one falls due (at most `poll`).
    /// A pass that fails (the store cannot be written) is tried again after a growing wait that wake-ups do not cut
    /// short, and is logged at most once a minute.
    public func run(poll: Duration = .seconds(1)) async {
        defer { receiptLoop.withLock { $0?.cancel() } }
        while !Task.isCancelled {
            startReceiptLoopIfNeeded()
            do {
                try await settled()
                while try await deliverDue() > 0 && !Task.isCancelled { try await settled() }
                passWorked()
            } catch is CancellationError {
                return
            } catch {
                do { try await clock.sleep(for: passFailed(error)) } catch { return }
                continue
            }
            let wait: Duration
            if let next = try? await db.nextDue() {
                let seconds = max(0, min(next.timeIntervalSince(clock.now()), 1))
                wait = .milliseconds(Int(seconds * 1000))
            } else {
                wait = poll
            }
            // Whichever comes first: the wait, or a wake-up.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [clock] in try? await clock.sleep(for: wait) }
                group.addTask { [wakeups] in await wakeups.wait() }
                _ = await group.next()
                group.cancelAll()
            }
        }
    }

    /// SMS receipts are asked for beside the sending, never in its way: a loop of their own while an SMS gateway is
    /// configured (started by the sending loop, so a daemon without SMS has none).
    private func startReceiptLoopIfNeeded() {
        guard channels.sms != nil else { return }
        receiptLoop.withLock { loop in
            guard loop == nil else { return }
            loop = Task { [self] in
                while !Task.isCancelled && channels.sms != nil {
                    await pollReceiptsWhenDue()
                    do { try await clock.sleep(for: .seconds(1)) } catch { break }
                }
                receiptLoop.withLock { $0 = nil }
            }
        }
    }

    /// Asks for SMS delivery receipts once a minute, by the clock; a gateway or store that fails is asked again at
    /// the next minute (the receipts wait).
    private func pollReceiptsWhenDue() async {
        guard channels.sms != nil else { return }
        let now = clock.now()
        let due = lastReceiptPoll.withLock { last in
            guard now.timeIntervalSince(last) >= 60 || now < last else { return false }
            last = now
            return true
        }
        guard due else { return }
        do { try await refreshReceipts() } catch {
            logger.warning("outbox: SMS receipts could not be stored: \(error)")
        }
    }

    /// Asks the SMS gateway what became of messages it took in the last two days and has not reported on yet
    /// (Alibaba: those of `message` alone when one is named; Tencent hands over every receipt at once), and stores
    /// the answers. Returns how many receipts changed.
    @discardableResult
    public func refreshReceipts(message: Int64? = nil) async throws -> Int {
        guard let sms = channels.sms else { return 0 }
        var waiting: [DeliveryReceipt] = []
        if let message {
            waiting = try await db.receipts(message: message).filter { $0.state == .waiting }
            guard !waiting.isEmpty else { return 0 }
        }
        if message == nil || sms.gateway.settings.provider == .tencent {
            waiting = try await db.waitingReceipts(since: clock.now().addingTimeInterval(-2 * 86400))
        }
        let held = heldReceipts.withLock { $0 }
        guard !waiting.isEmpty || !held.isEmpty else { return 0 }
        let answered = waiting.isEmpty ? [] : await sms.gateway.receipts(for: waiting)
        let (changed, unknown) = try await db.recordReceipts(held + answered)
        // Kept for a day (at most 10,000): a receipt may come before its message's pass is stored.
        let now = clock.now()
        heldReceipts.withLock {
            $0 = Array(unknown.filter { now.timeIntervalSince($0.sentAt) < 86400 }.suffix(10_000))
        }
        return changed
    }

    /// Notes a failed pass; answers how long to wait before the next. Logged when the failure begins and then at
    /// most once a minute, by the injected clock.
    private func passFailed(_ error: any Error) -> Duration {
        let (wait, log) = outage.withLock { $0.failed(at: clock.now()) }
        if log {
            let why = (error as? MediationError)?.message ?? String(describing: error)
            let held = unstored.withLock { $0.count }
            let text =
                held > 0
                ? "outbox: the outcome of \(held) delivery attempt(s) cannot be stored: \(why). Nothing more is sent "
                    + "until it is stored; tried again every few seconds (this line repeats at most once a minute)"
                : "outbox: a pass failed: \(why). Tried again every few seconds (this line repeats at most once a "
                    + "minute)"
            logger.error("\(text)")
        }
        return wait
    }

    /// Notes a pass that worked: the end of an outage, if one was logged.
    private func passWorked() {
        if let lasted = outage.withLock({ $0.ended(at: clock.now()) }) {
            logger.notice("outbox: outcomes are stored again after \(Int(lasted.rounded())) s; sending resumes")
        }
    }

    /// One pass: every message due now (up to `limit`). Contexts are read in one transaction and every outcome is
    /// stored in one more, so a pass costs two commits whatever its size. Returns how many were handled.
    ///
    /// Outcomes the store refused in an earlier pass are stored first; until they are, the pass throws and sends
    /// nothing, so a message handed over once is not handed over again because its outcome could not be written.
    ///
    /// - Throws: the store's error when it cannot take outcomes (the pass's own are then kept for the next one).
    @discardableResult
    public func deliverDue(limit: Int = 200) async throws -> Int {
        let held = unstored.withLock { $0 }
        if !held.isEmpty {
            try await db.recordAttempts(held, groupLines: !channels.shared.isEmpty)
            unstored.withLock { $0.removeAll() }
            journal?.clear()
        }
        if let journal {
            let taken = journal.taken()
            if !taken.isEmpty {
                let marked = try await db.recordTaken(
                    taken, detail: "taken by the channel before the daemon stopped (from the hand-over journal)")
                journal.clear()
                if marked > 0 { logger.notice("outbox: \(marked) message(s) taken before a restart marked sent") }
            }
        }
        let read = try await db.dueMessages(limit: limit)
        let due = read.messages
        guard !due.isEmpty || !read.unreadable.isEmpty else { return 0 }
        let current = setup.withLock { $0 }
        let now = clock.now()
        let contexts = try await db.noticeContexts(messages: due)
        // A message the store cannot read is never sent as something it is not: it is dead, with the reason.
        var outcomes: [AttemptRecord] = read.unreadable.map { id, error in
            logger.error("outbox: message #\(id) is not sent: \(error.message)")
            return AttemptRecord(
                message: id, channel: "-", result: "permanent", detail: error.message, status: .dead, retryAt: nil)
        }
        var byChannel:
            [String: (channel: any NotificationChannel, items: [(PreparedMessage, [any NotificationChannel], Bool)])] =
                [:]
        var order: [String] = []
        for message in due {
            let context: NoticeContext
            switch contexts[message.id] {
            case .success(let read): context = read
            case .failure(let error):
                let why = (error as? MediationError)?.message ?? "\(error)"
                logger.error("outbox: message #\(message.id) is not sent: \(why)")
                outcomes.append(
                    AttemptRecord(
                        message: message.id, channel: "-", result: "permanent",
                        detail: "what it is rendered from cannot be read: \(why)", status: .dead, retryAt: nil))
                continue
            case nil:
                outcomes.append(
                    AttemptRecord(
                        message: message.id, channel: "-", result: "permanent",
                        detail: "session #\(message.sessionId) cannot be read", status: .dead, retryAt: nil))
                continue
            }
            if let why = skipReason(context, now: now) {
                outcomes.append(
                    AttemptRecord(
                        message: message.id, channel: "-", result: "skipped", detail: why, status: .skipped,
                        retryAt: nil))
                continue
            }
            let prepared: PreparedMessage
            do { prepared = try prepare(context, renderer: current.renderer, now: now) } catch {
                outcomes.append(
                    outcome(message, channel: "-", .permanent("cannot render: \(error)"), retry: current.retry))
                continue
            }
            var candidates = current.channels.candidates(for: prepared)
            guard !candidates.isEmpty else {
                if message.isGroupLine {
                    outcomes.append(
                        AttemptRecord(
                            message: message.id, channel: "-", result: "skipped",
                            detail: "no group chat is configured any more (wecom, dingtalk or a shared webhook)",
                            status: .skipped, retryAt: nil))
                } else {
                    outcomes.append(
                        outcome(
                            message, channel: "-",
                            .permanent(unreachable(context, prepared, channels: current.channels)),
                            retry: current.retry))
                }
                continue
            }
            // A channel that refused the message for good handed it to the next one ("; trying NAME"): go on from
            // there, not from the first again.
            var resumed = false
            if message.status == .failed, let said = message.lastError?.range(of: Self.tryingNext, options: .backwards)
            {
                let next = String(message.lastError![said.upperBound...])
                if let at = candidates.firstIndex(where: { $0.name == next }) {
                    candidates.removeFirst(at)
                    resumed = true
                }
            }
            let first = candidates.removeFirst()
            if first.keepsQuietHours, context.session.start.timeIntervalSince(now) > 2 * 3600,
                let zone = try? Zone(prepared.notice.timeZone),
                let until = current.renderer.settings.quietUntil(now, zone: zone)
            {
                try await db.postpone(
                    message: message.id, until: until, why: "quiet hours in \(zone.identifier) until \(until)")
                continue
            }
            if byChannel[first.name] == nil {
                byChannel[first.name] = (first, [])
                order.append(first.name)
            }
            byChannel[first.name]?.items.append((prepared, candidates, resumed))
        }
        // Each channel's batch goes out beside the others': a slow gateway or chat service does not hold up mail.
        let delivered = await withTaskGroup(of: (String, [DeliveryResult]).self) { group in
            for name in order {
                guard let (channel, items) = byChannel[name] else { continue }
                let journal = self.journal
                group.addTask {
                    guard let journal else { return (name, await channel.deliver(items.map(\.0))) }
                    var ids: [String: Int64] = [:]
                    for (prepared, _, _) in items {
                        ids[prepared.notice.messageID] = prepared.outboxId
                        if let mail = prepared.mail { ids[mail.messageID] = prepared.outboxId }
                    }
                    let noted: @Sendable (String) -> Void = { [ids] messageID in
                        if let id = ids[messageID] { journal.append(id, channel: name) }
                    }
                    return (name, await channel.deliver(items.map(\.0), taken: noted))
                }
            }
            var all: [String: [DeliveryResult]] = [:]
            for await (name, results) in group { all[name] = results }
            return all
        }
        for name in order {
            guard let (channel, items) = byChannel[name], let results = delivered[name] else { continue }
            for ((prepared, fallbacks, resumed), result) in zip(items, results) {
                guard let message = due.first(where: { $0.id == prepared.outboxId }) else { continue }
                outcomes.append(
                    settle(
                        message, via: channel, result: result, fallbacks: fallbacks, resumed: resumed,
                        retry: current.retry))
            }
        }
        do {
            try await db.recordAttempts(outcomes, groupLines: !current.channels.shared.isEmpty)
        } catch {
            // Kept, with the moment they happened, for the next pass to store before it sends anything.
            let at = clock.now()
            unstored.withLock {
                $0 = outcomes.map { o in
                    var held = o
                    held.at = o.at ?? at
                    return held
                }
            }
            throw error
        }
        journal?.clear()
        DeliveryMetrics.recordHandedOver(outcomes, of: due, now: clock.now())
        return due.count + read.unreadable.count
    }

    /// Why no channel may carry a message, and what staff can do: a person's notice never goes to a group chat, so
    /// someone whose only channel would be one needs a personal one first.
    func unreachable(_ context: NoticeContext, _ prepared: PreparedMessage, channels: ChannelSet) -> String {
        let message = context.message
        let who = prepared.notice.recipientName
        var why = "no channel reaches \(who) on their own"
        let groups = channels.shared.map(\.name)
        if prepared.isPersonal, let last = groups.last {
            why +=
                groups.count == 1
                ? " (\(last) is a group chat: everyone in it reads every message, so it never carries a personal "
                    + "link, token or notice)"
                : " (\(groups.dropLast().joined(separator: ", ")) and \(last) are group chats: everyone in them reads "
                    + "every message, so they never carry a personal link, token or notice)"
        }
        let fix =
            prepared.corrections[.email].map { "add an email with '\($0)'" }
            ?? "set notices.office_email and send SIGHUP"
        var sms = ""
        if prepared.isPersonal, prepared.notice.recipientMobile != nil, !channels.personal.sms {
            sms = ", or configure an SMS gateway (sms.provider) to reach their mobile"
        }
        return "没有能单独送达\(who)的渠道。\(why): \(fix)\(sms), then "
            + "'mediationctl outbox retry \(message.id)'"
    }

    /// How a permanent refusal's detail names the channel tried next (`…; trying dingtalk-app`).
    static let tryingNext = "; trying "

    /// The outcome of a result; a permanent refusal tries the recipient's next channel before giving up.
    private func settle(
        _ message: OutboxMessage, via channel: any NotificationChannel, result: DeliveryResult,
        fallbacks: [any NotificationChannel], resumed: Bool, retry: RetryPolicy
    ) -> AttemptRecord {
        switch result {
        case .sent(let detail, let receipt):
            var record = AttemptRecord(
                message: message.id, channel: channel.name, result: "sent", detail: detail, status: .sent,
                retryAt: nil)
            record.receipt = receipt
            return record
        case .permanent(let detail):
            if let next = fallbacks.first {
                return AttemptRecord(
                    message: message.id, channel: channel.name, result: "permanent",
                    detail: detail + Self.tryingNext + next.name, status: .failed, retryAt: clock.now())
            }
            return outcome(message, channel: channel.name, result, retry: retry)
        case .transient(let detail):
            // Reached by handing on: the next attempt goes on from this channel, not from the first again.
            let said: DeliveryResult = resumed ? .transient(detail + Self.tryingNext + channel.name) : result
            var record = outcome(message, channel: channel.name, said, retry: retry)
            if record.status == .dead { record.detail = detail }
            return record
        }
    }

    /// A failure's outcome: tried again after a backoff, or dead.
    private func outcome(_ message: OutboxMessage, channel: String, _ result: DeliveryResult, retry: RetryPolicy)
        -> AttemptRecord
    {
        let attempts = message.attempts + 1
        let permanent = if case .permanent = result { true } else { false }
        if permanent || attempts >= retry.maxAttempts {
            logger.warning("outbox: message #\(message.id) is dead after \(attempts) attempt(s): \(result.detail)")
            return AttemptRecord(
                message: message.id, channel: channel, result: permanent ? "permanent" : "transient",
                detail: result.detail, status: .dead, retryAt: nil)
        }
        var random = SystemRandomNumberGenerator()
        let delay = retry.delay(afterFailures: attempts, using: &random)
        return AttemptRecord(
            message: message.id, channel: channel, result: "transient", detail: result.detail, status: .failed,
            retryAt: clock.now().addingTimeInterval(delay))
    }

    /// Why a message must not go out any more, if it must not.
    func skipReason(_ context: NoticeContext, now: Date) -> String? {
        let s = context.session
        let kind = context.message.kind
        if context.message.isGroupLine {
            if kind != .cancel && s.status != .booked {
                return "session #\(s.id) is \(s.status.rawValue); the group's line about it is not sent"
            }
            if context.message.sequence < s.sequence {
                return "session #\(s.id) changed again before this line was sent"
            }
            return nil
        }
        if s.status == .cancelled && !kind.survivesCancellation {
            return "session #\(s.id) was cancelled before this was sent"
        }
        if kind == .reminder && (now >= s.start || s.status != .booked) {
            return "session #\(s.id) has begun or is over; a late reminder is not sent"
        }
        if [.notice, .update, .added].contains(kind) && s.status != .booked && s.status != .cancelled {
            return "session #\(s.id) is \(s.status.rawValue)"
        }
        if kind == .added || kind == .notice || kind == .update || kind == .reminder,
            context.message.recipientKind == .expert,
            !s.panel.contains(where: { $0.expertId == context.message.recipientId })
        {
            return "expert #\(context.message.recipientId) is no longer on the panel"
        }
        return nil
    }

    /// The message in every form a channel may need.
    public func prepare(_ context: NoticeContext, renderer: NoticeRenderer, now: Date) throws -> PreparedMessage {
        let notice = try renderer.render(context)
        let settings = renderer.settings
        var mail: OutgoingMail?
        if let email = notice.recipientEmail {
            mail = OutgoingMail(
                from: settings.from, to: [MailAddress(email, name: notice.recipientName)], subject: notice.subject,
                text: notice.text, calendar: invite(context, notice: notice, settings: settings, now: now),
                messageID: notice.messageID, date: now)
        }
        // The group's line mentions the panel; anything else its one recipient.
        let mention =
            context.message.isGroupLine
            ? context.session.panel.compactMap { context.experts[$0.expertId]?.mobile }
            : notice.recipientMobile.map { [$0] } ?? []
        let chat = ChatMessage(
            title: notice.subject, markdown: "### \(notice.subject)\n\n" + notice.text,
            text: notice.subject + "\n\n" + notice.text,
            mentionMobiles: mention)
        // Only a webhook reads the JSON form.
        var json = Data()
        if setup.withLock({ $0.channels.webhook != nil }) {
            let payload: [String: Any] = [
                "messageId": notice.messageID, "kind": context.message.kind.rawValue,
                "session": context.session.id, "dispute": context.dispute.number,
                "recipient": present([
                    "kind": context.message.recipientKind.rawValue, "id": context.message.recipientId,
                    "name": notice.recipientName, "mobile": notice.recipientMobile, "email": notice.recipientEmail,
                ]),
                "language": notice.language, "subject": notice.subject, "text": notice.text,
                "start": ISO8601DateFormatter().string(from: context.session.start),
            ]
            json = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data()
        }
        return PreparedMessage(
            outboxId: context.message.id, notice: notice, mail: mail, chat: chat, json: json,
            isPersonal: context.message.isPersonal, corrections: Self.corrections(context))
    }

    /// The commands that correct the recipient's addresses; none for the office (its address is configuration).
    static func corrections(_ context: NoticeContext) -> [ContactField: String] {
        let id = context.message.recipientId
        let number = context.dispute.number
        switch context.message.recipientKind {
        case .expert:
            return [
                .email: "mediationctl expert update \(id) --email ADDRESS",
                .mobile: "mediationctl expert update \(id) --mobile NUMBER",
                .wecom: "mediationctl expert update \(id) --wecom USERID",
                .dingtalk: "mediationctl expert update \(id) --dingtalk MOBILE",
            ]
        case .party:
            return [
                .email: "mediationctl party update \(number) \(id) --email ADDRESS",
                .mobile: "mediationctl party update \(number) \(id) --mobile NUMBER",
            ]
        case .office: return [:]
        }
    }

    /// The calendar part: a request for notices and changes, a cancel for cancellations; none for reminders.
    func invite(_ context: NoticeContext, notice: RenderedNotice, settings: NoticeSettings, now: Date)
        -> CalendarPart?
    {
        let method: CalendarInvite.Method
        switch context.message.kind {
        case .notice, .update, .added: method = .request
        case .cancel, .removed: method = .cancel
        case .reminder, .rsvp, .followup: return nil
        }
        guard let email = notice.recipientEmail, context.message.recipientKind != .office else { return nil }
        let s = context.session
        let invite = CalendarInvite(
            method: method, uid: "session-\(s.id)@\(settings.domain)",
            // A removed expert's cancel must outrank the invite they hold.
            sequence: s.sequence, stamp: now, start: s.start, end: s.end, timeZone: notice.timeZone,
            summary: "\(context.dispute.number) \(context.dispute.title)", description: notice.text,
            location: nil, url: nil, organizer: settings.from,
            attendees: [MailAddress(email, name: notice.recipientName)])
        return CalendarPart(method: method.rawValue, ics: ICalendar.render(invite))
    }
}

extension OutboxDispatcher {
    /// What each recipient of the session's notice would receive now.
    public func preview(session: Int64) async throws -> [NoticePreview] {
        let current = setup.withLock { $0 }
        let now = clock.now()
        return try await db.previewContexts(session: session).map { context in
            let prepared = try prepare(context, renderer: current.renderer, now: now)
            let n = prepared.notice
            return NoticePreview(
                recipientKind: context.message.recipientKind.rawValue, recipientId: context.message.recipientId,
                recipient: n.recipientName, address: n.recipientEmail ?? n.recipientMobile.map(Contact.maskMobile),
                channels: current.channels.candidates(for: prepared).map(\.name), language: n.language,
                timeZone: n.timeZone, subject: n.subject, text: n.text, invite: prepared.mail?.calendar?.ics)
        }
    }

    /// Sends a test message through one channel and reports what it answered.
    ///
    /// - Throws: `invalidInput` for a channel that is not configured.
    public func test(channel name: String, to: String, channels: ChannelSet, smtp: SMTPSettings?, spool: String)
        async throws
        -> (result: String, detail: String)
    {
        let now = clock.now()
        let settings = renderer.settings
        let channel: any NotificationChannel
        switch name {
        case "smtp":
            guard let smtp else {
                throw MediationError.invalidInput("smtp is not configured", hint: "set smtp.host (and port) first")
            }
            channel = SMTPChannel(settings: smtp)
        case "maildir":
            channel = MaildirChannel(directory: spool)
        case "webhook":
            guard let c = channels.webhook else { throw MediationError.invalidInput("webhook.url is not configured") }
            channel = c
        case "wecom":
            guard let c = channels.wecom else { throw MediationError.invalidInput("wecom.url is not configured") }
            channel = c
        case "dingtalk":
            guard let c = channels.dingtalk else { throw MediationError.invalidInput("dingtalk.url is not configured") }
            channel = c
        case "sms":
            guard let c = channels.sms else {
                throw MediationError.invalidInput(
                    "sms is not configured", hint: "set sms.provider and its keys (see Config/mediationd.yaml)")
            }
            guard to.filter(\.isNumber).count >= 11, !to.contains("@") else {
                throw MediationError.invalidInput("sms needs a mobile", hint: "give --to 13800138000")
            }
            // A real template (the notice's), with sample values: the gateway sends nothing else.
            let result = await c.gateway.send(
                to: to, kind: .notice,
                parameters: SMSParameters(
                    number: "测试", time: NoticeRenderer.short(now, zone: .shanghai, en: false),
                    link: renderer.personalPages?.base ?? "https://example.org"),
                reference: "test-\(Int(now.timeIntervalSince1970))", fix: nil, outboxId: nil)
            return Self.answer(result)
        case "wecom-app", "dingtalk-app":
            guard let c = name == "wecom-app" ? channels.wecomApp : channels.dingtalkApp else {
                throw MediationError.invalidInput(
                    "\(name) is not configured",
                    hint: name == "wecom-app"
                        ? "set wecom.corp_id, wecom.secret_file and wecom.agent_id"
                        : "set dingtalk.app_key, dingtalk.app_secret_file and dingtalk.agent_id")
            }
            let result = await c.app.send(
                to: to, title: "调解协调测试消息 / Mediation Coordinator test message",
                text: "这是一条测试消息，说明 \(name) 通道可用。\nThis test message shows that the \(name) channel works.",
                fix: nil, outboxId: nil)
            return Self.answer(result)
        default:
            throw MediationError.invalidInput(
                "channel '\(name)' is unknown; use smtp, maildir, webhook, wecom, dingtalk, sms, wecom-app or "
                    + "dingtalk-app")
        }
        var bytes = [UInt8](repeating: 0, count: 8)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let id = "<test.\(bytes.map { String(format: "%02x", $0) }.joined())@\(settings.domain)>"
        let subject = "调解协调测试消息 / Mediation Coordinator test message"
        let text = "这是一条测试消息，说明 \(name) 通道可用。\nThis test message shows that the \(name) channel works.\n"
        let isMail = to.contains("@")
        let notice = RenderedNotice(
            language: settings.defaultLanguage, subject: subject, text: text, recipientName: to,
            recipientEmail: isMail ? to : nil, recipientMobile: isMail ? nil : to, preferredChannel: nil,
            timeZone: "Asia/Shanghai", messageID: id)
        let mail =
            isMail
            ? OutgoingMail(
                from: settings.from, to: [MailAddress(to)], subject: subject, text: text, messageID: id, date: now)
            : nil
        let json =
            (try? JSONSerialization.data(withJSONObject: ["messageId": id, "subject": subject, "text": text]))
            ?? Data()
        let prepared = PreparedMessage(
            outboxId: 0, notice: notice, mail: mail,
            chat: ChatMessage(
                title: subject, markdown: "### \(subject)\n\n\(text)", text: text, mentionMobiles: isMail ? [] : [to]),
            json: json, isPersonal: false)
        guard channel.accepts(prepared) else {
            throw MediationError.invalidInput(
                "\(name) cannot carry a message to '\(to)'",
                hint: isMail ? "\(name) needs a mobile: give --to 13800138000" : "give a mail address with --to")
        }
        return Self.answer(await channel.deliver([prepared]).first ?? .transient("no answer"))
    }

    static func answer(_ result: DeliveryResult) -> (result: String, detail: String) {
        switch result {
        case .sent(let d, _): ("sent", d)
        case .transient(let d): ("transient", d)
        case .permanent(let d): ("permanent", d)
        }
    }
}
