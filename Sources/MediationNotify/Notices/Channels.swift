import Foundation
import Glibc
import MediationCore

/// A message as a channel carries it: the rendered text, the mail form and the chat form.
public struct PreparedMessage: Sendable {
    public var outboxId: Int64
    public var notice: RenderedNotice
    public var mail: OutgoingMail?
    public var chat: ChatMessage
    /// The JSON a webhook receives.
    public var json: Data
    /// Whether the message is meant for one person (their notice, reminder, link or token), so that only a
    /// personal channel may carry it; false for what the office may read out to a group. True unless said
    /// otherwise: the safe choice.
    public var isPersonal: Bool = true
    /// The commands that correct each of the recipient's addresses (`mediationctl party update JS-2026-0042 3
    /// --mobile NUMBER`), for a refusal that says one is wrong; none for the office.
    public var corrections: [ContactField: String] = [:]
}

/// An address a person is reached at, as a refusal names the one to correct.
public enum ContactField: Sendable, Hashable {
    case email, mobile, wecom, dingtalk
}

/// Whom a channel reaches, which decides what it may carry.
public enum ChannelReach: String, Sendable {
    /// One person: mail, an SMS gateway, an app message to one user, the person's own page.
    case personal
    /// A group: a WeCom or DingTalk group robot, a webhook into a group or a shared system. Everyone there reads
    /// every message, so it carries office-level lines only, never a personal link, a token or a party's notice.
    case shared

    /// Whether a channel of this reach may carry `message`: a shared one never carries a personal message.
    public func mayCarry(_ message: PreparedMessage) -> Bool { self == .personal || !message.isPersonal }
}

/// One way of delivering messages. A batch goes out together (one SMTP connection); results come back in order.
public protocol NotificationChannel: Sendable {
    /// `smtp`, `maildir`, `webhook`, `wecom` or `dingtalk`: stored with each attempt.
    var name: String { get }
    /// Whether it reaches one person or a group (see `ChannelReach`).
    var reach: ChannelReach { get }
    /// Whether the channel can carry this message at all (an address, a mobile to mention).
    func accepts(_ message: PreparedMessage) -> Bool
    /// Delivers a batch; calls `taken` with a message's Message-ID the moment the other side has taken it (before
    /// the batch ends), so the dispatcher can note it at once (see `HandOverJournal`).
    func deliver(_ batch: [PreparedMessage], taken: @escaping @Sendable (String) -> Void) async -> [DeliveryResult]
    /// Chat channels keep quiet hours; mail does not.
    var keepsQuietHours: Bool { get }
}

extension NotificationChannel {
    /// Delivers a batch without noting what was taken.
    public func deliver(_ batch: [PreparedMessage]) async -> [DeliveryResult] {
        await deliver(batch, taken: { _ in })
    }
}

/// The embedded default: every mail written as an `.eml` file under the spool folder, so a newcomer sees every
/// notice without a mail server. Files are written to `tmp/` and renamed into `new/` (Maildir), named by
/// Message-ID, so a resend after a crash replaces the same file instead of adding a second one.
public struct MaildirChannel: NotificationChannel {
    public let name = "maildir"
    public let reach = ChannelReach.personal
    public let keepsQuietHours = false
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func accepts(_ message: PreparedMessage) -> Bool { message.mail != nil }

    /// A file per Message-ID: writing one again replaces it, so nothing needs noting.
    public func deliver(_ batch: [PreparedMessage], taken: @escaping @Sendable (String) -> Void) async
        -> [DeliveryResult]
    {
        let fm = FileManager.default
        let tmp = (directory as NSString).appendingPathComponent("tmp")
        let new = (directory as NSString).appendingPathComponent("new")
        do {
            try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: new, withIntermediateDirectories: true)
        } catch {
            return batch.map { _ in .transient("cannot create \(new): \(error.localizedDescription)") }
        }
        return batch.map { message in
            guard let mail = message.mail else { return .permanent("no mail form for this message") }
            let file =
                mail.messageID.trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
                .map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "@" ? $0 : "_" } + ".eml"
            let name = String(file)
            let staging = (tmp as NSString).appendingPathComponent(name)
            let final = (new as NSString).appendingPathComponent(name)
            // Written whole under tmp/, then renamed into new/ (replacing a file of the same Message-ID).
            let bytes = Array(MIMEMessage.render(mail).utf8)
            let fd = open(staging, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
            guard fd >= 0 else {
                return .transient("cannot write \(staging): \(String(cString: strerror(errno)))")
            }
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    let why = String(cString: strerror(errno))
                    close(fd)
                    unlink(staging)
                    return .transient("cannot write \(staging): \(why) (is the disk full?)")
                }
                written += n
            }
            close(fd)
            guard rename(staging, final) == 0 else {
                let why = String(cString: strerror(errno))
                unlink(staging)
                return .transient("cannot move the message into \(final): \(why)")
            }
            return .sent(detail: final)
        }
    }
}

/// Mail through an SMTP server. A batch is split over at most `connections` connections used side by side (SMTP
/// waits a round trip per command, so one connection idles most of the time); each connection carries its share.
public struct SMTPChannel: NotificationChannel {
    public let name = "smtp"
    public let reach = ChannelReach.personal
    public let keepsQuietHours = false
    public let client: SMTPClient
    public let connections: Int

    public init(settings: SMTPSettings, connections: Int = 4) {
        client = SMTPClient(settings: settings)
        self.connections = max(1, connections)
    }

    public func accepts(_ message: PreparedMessage) -> Bool { message.mail != nil }

    public func deliver(_ batch: [PreparedMessage], taken: @escaping @Sendable (String) -> Void) async
        -> [DeliveryResult]
    {
        let mails = batch.compactMap(\.mail)
        guard mails.count == batch.count else { return batch.map { _ in .permanent("no mail form") } }
        // At least 25 messages per connection: a handful goes over one.
        let lanes = min(connections, max(1, mails.count / 25))
        guard lanes > 1 else { return await client.send(mails, taken: taken) }
        let size = (mails.count + lanes - 1) / lanes
        let chunks = stride(from: 0, to: mails.count, by: size).map { Array(mails[$0..<min($0 + size, mails.count)]) }
        return await withTaskGroup(of: (Int, [DeliveryResult]).self) { group in
            for (i, chunk) in chunks.enumerated() {
                group.addTask { [client] in (i, await client.send(chunk, taken: taken)) }
            }
            var results = [[DeliveryResult]](repeating: [], count: chunks.count)
            for await (i, r) in group { results[i] = r }
            return results.flatMap { $0 }
        }
    }
}

/// A signed JSON POST to the office's own system. Shared unless the configuration says the receiver delivers each
/// message to its one recipient (`webhook.personal`: an SMS gateway sending to the recipient's own number); a
/// personal one takes only messages with a mobile to deliver to.
public struct WebhookChannel: NotificationChannel {
    public let name = "webhook"
    public let reach: ChannelReach
    public let keepsQuietHours = false
    public let target: WebhookTarget
    public let sender: ChannelSender

    public init(target: WebhookTarget, sender: ChannelSender, reach: ChannelReach = .shared) {
        self.target = target
        self.sender = sender
        self.reach = reach
    }

    public func accepts(_ message: PreparedMessage) -> Bool {
        reach == .personal ? message.notice.recipientMobile != nil : reach.mayCarry(message)
    }

    public func deliver(_ batch: [PreparedMessage], taken: @escaping @Sendable (String) -> Void) async
        -> [DeliveryResult]
    {
        var results: [DeliveryResult] = []
        for m in batch {
            guard reach.mayCarry(m) else {
                results.append(.permanent("a shared webhook never carries a personal message"))
                continue
            }
            let result = await sender.sendWebhook(target, json: m.json, messageID: m.notice.messageID)
            if case .sent = result { taken(m.notice.messageID) }
            results.append(result)
        }
        return results
    }
}

/// A WeCom or DingTalk group robot: the office's group, where everyone reads every message. It carries office-level
/// lines (mentioning panel members by mobile), never a personal message.
public struct RobotChannel: NotificationChannel {
    public var name: String { target.kind.rawValue }
    public let reach = ChannelReach.shared
    public let keepsQuietHours = true
    public let target: RobotTarget
    public let sender: ChannelSender

    public init(target: RobotTarget, sender: ChannelSender) {
        self.target = target
        self.sender = sender
    }

    public func accepts(_ message: PreparedMessage) -> Bool { reach.mayCarry(message) }

    public func deliver(_ batch: [PreparedMessage], taken: @escaping @Sendable (String) -> Void) async
        -> [DeliveryResult]
    {
        var results: [DeliveryResult] = []
        for m in batch {
            guard reach.mayCarry(m) else {
                results.append(.permanent("a group robot never carries a personal message"))
                continue
            }
            let result = await sender.sendRobot(target, m.chat)
            if case .sent = result { taken(m.notice.messageID) }
            results.append(result)
        }
        return results
    }
}
