import Foundation
import MediationAPI
import MediationCore
import MediationStore
import OpenAPIRuntime

extension APIHandler {
    private func wire(_ m: OutboxMessage, names: [String: String] = [:], zone: Zone = .shanghai)
        -> Components.Schemas.OutboxMessage
    {
        .init(
            id: m.id, messageId: "<\(m.token)@\(info.noticeDomain)>", session: m.sessionId,
            kind: .init(m.kind), recipientKind: .init(m.recipientKind), recipientId: m.recipientId,
            recipientName: names["\(m.recipientKind.rawValue)-\(m.recipientId)"], offsetMinutes: m.offsetMinutes,
            status: .init(m.status), attempts: m.attempts, channel: m.channel,
            lastError: m.lastError.map { Words.deliveryNote($0, ReplyLanguage.current) }, dueAt: zone.format(m.dueAt),
            nextAttemptAt: zone.format(m.nextAttemptAt),
            createdAt: zone.format(m.createdAt), sentAt: m.sentAt.map(zone.format))
    }

    func listOutbox(_ input: Operations.ListOutbox.Input) async throws -> Operations.ListOutbox.Output {
        let q = input.query
        let status = q.status.flatMap { OutboxStatus(rawValue: $0.rawValue) }
        let messages = try await db.outbox(OutboxFilter(status: status, session: q.session, limit: q.limit ?? 500))
        let names = try await db.recipientNames(messages)
        let counts = try await db.outboxCounts()
        return .ok(
            .init(
                body: .json(
                    .init(
                        messages: messages.map { wire($0, names: names) },
                        counts: .init(
                            additionalProperties: Dictionary(
                                uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }))))))
    }

    func getOutboxMessage(_ input: Operations.GetOutboxMessage.Input) async throws
        -> Operations.GetOutboxMessage.Output
    {
        await info.notices.refreshReceipts(message: input.path.message)
        let (message, attempts) = try await db.outboxMessage(input.path.message)
        let receipts = try await db.receipts(message: input.path.message)
        let names = try await db.recipientNames([message])
        return .ok(
            .init(
                body: .json(
                    .init(
                        message: wire(message, names: names),
                        attempts: attempts.map {
                            .init(
                                at: Zone.shanghai.format($0.at), channel: $0.channel, result: $0.result,
                                detail: Words.deliveryNote($0.detail, ReplyLanguage.current))
                        },
                        receipts: receipts.map {
                            .init(
                                provider: $0.provider, id: $0.id, phone: Contact.maskMobile($0.phone),
                                state: .init(rawValue: $0.state.rawValue) ?? .waiting, detail: $0.detail,
                                sentAt: Zone.shanghai.format($0.sentAt),
                                receivedAt: $0.receivedAt.map { Zone.shanghai.format($0) })
                        }))))
    }

    func retryOutboxMessage(_ input: Operations.RetryOutboxMessage.Input) async throws
        -> Operations.RetryOutboxMessage.Output
    {
        let message = try await db.retry(message: input.path.message)
        info.notices.outboxChanged()
        return .ok(.init(body: .json(wire(message))))
    }

    func retryDeadMessages(_ input: Operations.RetryDeadMessages.Input) async throws
        -> Operations.RetryDeadMessages.Output
    {
        let count = try await db.retryDead()
        info.notices.outboxChanged()
        return .ok(.init(body: .json(.init(count: count))))
    }

    func previewNotices(_ input: Operations.PreviewNotices.Input) async throws -> Operations.PreviewNotices.Output {
        // The links in a preview are as live as those of 'session links': the same rule holds.
        try await db.session(input.path.session).checkLinksAvailable()
        let notices = try await info.notices.preview(session: input.path.session)
        return .ok(
            .init(
                body: .json(
                    .init(
                        notices: notices.map {
                            .init(
                                recipientKind: $0.recipientKind, recipientId: $0.recipientId, recipient: $0.recipient,
                                address: $0.address, channels: $0.channels, language: $0.language,
                                timeZone: $0.timeZone, subject: $0.subject, text: $0.text, invite: $0.invite)
                        }))))
    }

    func testChannel(_ input: Operations.TestChannel.Input) async throws -> Operations.TestChannel.Output {
        guard case .json(let body) = input.body, let to = Text.nonEmpty(body.to) else {
            throw MediationError.said(
                .invalidInput, field: "to",
                en: "say where the test goes; "
                    + "give --to ADDRESS (a mobile for robots and sms, a WeCom user id for wecom-app)",
                zh: "请说明测试消息发到哪里：用 --to 地址（机器人和短信填手机号，wecom-app 填企业微信用户 ID）")
        }
        let answer = try await info.notices.sendTest(channel: input.path.channel.rawValue, to: to)
        let (result, detail) = (answer.result, answer.detail)
        try await db.recordAudit(
            action: "channel.test", target: "channel \(input.path.channel.rawValue)",
            summary: "test message to \(to.contains("@") ? to : Contact.maskMobile(to)): \(result)")
        return .ok(
            .init(
                body: .json(
                    .init(
                        channel: input.path.channel.rawValue, result: .init(rawValue: result) ?? .permanent,
                        detail: detail))))
    }
}
