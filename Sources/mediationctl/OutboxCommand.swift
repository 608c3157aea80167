import ArgumentParser
import Foundation
import MediationAPI

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Notices, reminders and invites: what went out, what waits, what failed.",
        discussion: """
            Every booking, reschedule, cancellation, panel change and invitation answer queues its messages in the \
            same transaction; the daemon sends them in order, retries with backoff, and marks a message dead after \
            too many failures or when no channel reaches its recipient. 'outbox retry ID' or 'outbox retry --dead' \
            sends again.
            """,
        subcommands: [List.self, Show.self, Retry.self, Preview.self])

    /// How long before the session a reminder goes, in Chinese: `1 天`, `2 小时`, `30 分钟`.
    static func ahead(_ minutes: Int) -> String {
        if minutes >= 1440, minutes % 1440 == 0 { return "\(minutes / 1440) 天" }
        if minutes >= 60, minutes % 60 == 0 { return "\(minutes / 60) 小时" }
        return "\(minutes) 分钟"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Messages, newest first.",
            discussion: """
                Examples:
                  mediationctl outbox list --status dead
                  mediationctl outbox list --session 1 --limit 20
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this status: pending, sent, failed, dead or skipped.") var status: String?
        @Option(parsing: .unconditional, help: "Only this session's messages.") var session: Int64?
        @Option(parsing: .unconditional, help: "At most this many (default 500).") var limit: Int?

        func validate() throws {
            if let status, Operations.ListOutbox.Input.Query.StatusPayload(rawValue: status.lowercased()) == nil {
                throw ValidationError("--status '\(status)' is unknown; use pending, sent, failed, dead or skipped")
            }
            if let limit, !(1...10_000).contains(limit) { throw ValidationError("--limit must be 1 to 10000") }
        }

        func run() async throws {
            let s = status.flatMap { Operations.ListOutbox.Input.Query.StatusPayload(rawValue: $0.lowercased()) }
            switch try await global.client().call({
                try await $0.listOutbox(query: .init(status: s, session: session, limit: limit))
            }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                var table =
                    Say.zh
                    ? Table("编号", "场次", "内容", "收件人", "状态", "次数", "渠道", "时间", "最近错误")
                    : Table("ID", "SESSION", "KIND", "TO", "STATUS", "TRIES", "CHANNEL", "DUE", "LAST ERROR")
                for m in list.messages {
                    let kind = Say.zh ? Say.word("kind", m.kind.rawValue) : m.kind.rawValue
                    let who = Say.zh ? Say.word("recipient", m.recipientKind.rawValue) : m.recipientKind.rawValue
                    table.add(
                        String(m.id), String(m.session),
                        kind + (m.offsetMinutes.map { Say.t(" -\($0)m", "（提前 \(OutboxCommand.ahead($0))）") } ?? ""),
                        m.recipientKind.rawValue == "office"
                            ? m.recipientName ?? who : "\(m.recipientName ?? who) (\(who) #\(m.recipientId))",
                        Say.zh ? Say.word("outbox", m.status.rawValue) : m.status.rawValue, String(m.attempts),
                        m.channel ?? "-", String(m.dueAt.prefix(16)), String((m.lastError ?? "").prefix(60)))
                }
                table.print()
                let counts = list.counts.additionalProperties.sorted { $0.key < $1.key }
                    .map { "\(Say.zh ? Say.word("outbox", $0.key) : $0.key) \($0.value)" }
                    .joined(separator: Say.t(", ", "，"))
                print(
                    Say.t(
                        "\(list.messages.count) shown; outbox: \(counts.isEmpty ? "empty" : counts)",
                        "显示 \(list.messages.count) 条；发件箱：\(counts.isEmpty ? "空" : counts)"))
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One message with every delivery attempt.",
            discussion: """
                A dead message says what to fix, such as an email for someone no channel reaches. An SMS shows
                the gateway's delivery receipt: whether it reached the phone.

                Example:
                  mediationctl outbox show 7
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The message's id (from 'outbox list').") var id: Int64

        func run() async throws {
            switch try await global.client().call({ try await $0.getOutboxMessage(path: .init(message: id)) }) {
            case .ok(let ok):
                let d = try ok.body.json
                if global.json { return try printJSON(d) }
                let m = d.message
                let t = Say.t
                let who = Say.zh ? Say.word("recipient", m.recipientKind.rawValue) : m.recipientKind.rawValue
                print(
                    t(
                        "message #\(m.id): \(m.kind.rawValue) for session \(m.session)",
                        "消息 #\(m.id)：场次 \(m.session) 的\(Say.word("kind", m.kind.rawValue))"))
                print(padded("  " + t("to:", "收件人："), 15) + "\(m.recipientName ?? "") (\(who) #\(m.recipientId))")
                print(
                    padded("  " + t("status:", "状态："), 15)
                        + t(
                            "\(m.status.rawValue) after \(m.attempts) attempt(s)",
                            "\(Say.word("outbox", m.status.rawValue))（已尝试 \(m.attempts) 次）"))
                print(padded("  Message-ID:", 15) + m.messageId)
                // A next attempt only for a message still to be sent.
                let waiting = m.status == .pending || m.status == .failed
                print(
                    padded("  " + t("due:", "应发时间："), 15)
                        + (waiting
                            ? t("\(m.dueAt); next attempt \(m.nextAttemptAt)", "\(m.dueAt)；下次尝试 \(m.nextAttemptAt)")
                            : m.dueAt))
                if let sent = m.sentAt {
                    print(padded("  " + t("sent:", "发出："), 15) + t("\(sent) via ", "\(sent)，渠道 ") + (m.channel ?? "-"))
                }
                if let e = m.lastError { print(padded("  " + t("last error:", "最近错误："), 15) + e) }
                if d.attempts.isEmpty { print("  " + t("no attempts yet", "尚未尝试发送")) }
                for a in d.attempts { print("  \(a.at)  \(a.channel)  \(a.result): \(a.detail)") }
                for r in d.receipts {
                    let english: String =
                        switch r.state {
                        case .waiting: "no delivery receipt yet (the gateway is asked again once a minute)"
                        case .delivered: "DELIVERED to the phone"
                        case .failed: "NOT delivered to the phone: tell them by phone"
                        }
                    let state = Say.zh ? Say.word("receipt", r.state.rawValue) : english
                    let when = r.state == .delivered ? (r.receivedAt.map { t(" at \($0)", "（\($0)）") } ?? "") : ""
                    print(
                        padded("  " + t("receipt:", "短信回执："), 15) + "\(r.provider) \(r.id) "
                            + t("to", "发往") + " \(r.phone): \(state)\(when)" + (r.detail.map { " (\($0))" } ?? ""))
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a failed or dead message again now, or every dead one with --dead (staff).",
            discussion: """
                Examples:
                  mediationctl outbox retry 7
                  mediationctl outbox retry --dead
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The message's id.") var id: Int64?
        @Flag(help: "Every dead message.") var dead = false

        func validate() throws {
            if (id == nil) == !dead { throw ValidationError("give a message id, or --dead (not both)") }
        }

        func run() async throws {
            let client = try global.client()
            if let id {
                switch try await client.call({ try await $0.retryOutboxMessage(path: .init(message: id)) }) {
                case .ok(let ok):
                    let m = try ok.body.json
                    if global.json { return try printJSON(m) }
                    print(Say.t("message #\(m.id) is pending again; the daemon sends it now", "通知 #\(m.id) 已重新排队，马上发送"))
                case .default(let s, let p): throw apiFailure(s, p)
                }
            } else {
                switch try await client.call({ try await $0.retryDeadMessages() }) {
                case .ok(let ok):
                    let r = try ok.body.json
                    if global.json { return try printJSON(r) }
                    print(
                        Say.t(
                            "\(r.count) dead message\(r.count == 1 ? "" : "s") pending again",
                            "\(r.count) 条无法送达的通知已重新排队"))
                case .default(let s, let p): throw apiFailure(s, p)
                }
            }
        }
    }

    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What each panel member and party of a session would receive, rendered (staff).",
            discussion: """
                Only while the session is booked or in session: the notices carry the room links.

                Examples:
                  mediationctl outbox preview 1
                  mediationctl outbox preview 1 --invites
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The session's id.") var session: Int64
        @Flag(help: "Also print each iCalendar invite.") var invites = false

        func run() async throws {
            switch try await global.client().call({ try await $0.previewNotices(path: .init(session: session)) }) {
            case .ok(let ok):
                let list = try ok.body.json
                if global.json { return try printJSON(list) }
                for n in list.notices {
                    print(String(repeating: "─", count: 72))
                    let kind = Say.word("recipient", n.recipientKind)
                    print(
                        Say.t("To: ", "收件人：")
                            + "\(n.recipient) <\(n.address ?? Say.t("no address", "无地址"))> (\(kind) #\(n.recipientId))")
                    let channels =
                        n.channels.isEmpty
                        ? Say.t("none reaches them", "没有能送达的渠道") : n.channels.joined(separator: " → ")
                    print(
                        Say.t(
                            "Channels: \(channels); language \(n.language); zone \(n.timeZone)",
                            "渠道：\(channels)；语言 \(n.language)；时区 \(n.timeZone)"))
                    print(Say.t("Subject: ", "标题：") + "\(n.subject)\n")
                    print(n.text)
                    if invites, let ics = n.invite { print(ics) }
                }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }
}

struct ChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract: "Check a notice channel with a test message (admin).",
        subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a test message through one channel now and say what it answered.",
            discussion: """
                Channels: smtp, maildir, webhook, wecom and dingtalk (the group robots), sms (the notice's template \
                with sample values), wecom-app and dingtalk-app (a personal application message). A channel not \
                configured is refused, saying so. For the robots, --to is a mobile to mention: 'channel test wecom \
                --to 13800138000'; for sms and dingtalk-app a mobile, for wecom-app a WeCom user id.

                Example:
                  mediationctl channel test maildir --to duty@example.org
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "smtp, maildir, webhook, wecom, dingtalk, sms, wecom-app or dingtalk-app.") var channel: String
        @Option(help: "A mail address; a mobile for robots, sms and dingtalk-app; a WeCom user id for wecom-app.")
        var to: String

        func validate() throws {
            if Operations.TestChannel.Input.Path.ChannelPayload(rawValue: channel.lowercased()) == nil {
                throw ValidationError(
                    "channel '\(channel)' is unknown; use smtp, maildir, webhook, wecom, dingtalk, sms, wecom-app or "
                        + "dingtalk-app")
            }
        }

        func run() async throws {
            guard let c = Operations.TestChannel.Input.Path.ChannelPayload(rawValue: channel.lowercased()) else {
                return
            }
            switch try await global.client().call({
                try await $0.testChannel(path: .init(channel: c), body: .json(.init(to: to)))
            }) {
            case .ok(let ok):
                let r = try ok.body.json
                if global.json { return try printJSON(r) }
                print("\(r.channel): \(r.result.rawValue): \(r.detail)")
                if r.result != .sent { throw ExitCode(1) }
            case .default(let s, let p): throw apiFailure(s, p)
            }
        }
    }
}
