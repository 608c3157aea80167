import Foundation
import Glibc
import MediationCore
import MediationNotify
import MediationStore

/// Every booking's notices by SMS through Alibaba Cloud SMS's protocol (signed ACS3-HMAC-SHA256) to the local
/// stand-in (Tests/peers/sms_gateway.py, which checks each signature with the official SDK), delivered by the
/// daemon's own dispatcher; the stand-in's count by reference proves none was lost or sent twice.
enum SMSBench {
    static func run(directory: String, python: String, peer: String, sessions: Int = 500) async throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let server = try BenchPeer(
            python: python, arguments: [peer, directory + "/gateway.jsonl"], what: "the SMS stand-in")
        defer { server.stop() }
        let port = server.port

        // Experts and parties with only a mobile: every notice goes by SMS.
        let db = try AppDatabase.open(path: directory + "/sms.sqlite")
        try await NoticeBench.fill(
            db, sessions: sessions,
            expert: { t, r in (email: nil, mobile: "139\(String(format: "%08d", t * 10 + r + 4))") },
            party: { i in
                Party(name: "当事人\(i)", side: .applicant, mobile: "138\(String(format: "%08d", i * 10 + 4))")
            })
        let due = try await db.dueMessages(limit: 1_000_000).messages
        var renderer = NoticeRenderer(settings: NoticeSettings(), templates: try NoticeTemplates.load(directory: nil))
        renderer.personalPages = ("https://mediation.example.gov.cn", try await db.personalLinkKey())
        let gateway = SMSGateway(
            settings: SMSSettings(
                provider: .aliyun, endpoint: "http://127.0.0.1:\(port)", keyId: "LTAI-test-key",
                keySecret: "aliyun-test-secret", signName: "金山调解",
                templates: ["notice": "SMS_1", "update": "SMS_2", "cancel": "SMS_3", "reminder": "SMS_4"]))
        let dispatcher = OutboxDispatcher(
            db: db, renderer: renderer,
            channels: ChannelSet(
                mail: MaildirChannel(directory: directory + "/spool"), sms: SMSChannel(gateway: gateway)),
            retry: RetryPolicy())
        let start = DispatchTime.now().uptimeNanoseconds
        while try await dispatcher.deliverDue() > 0 {}
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        let counts = try await db.outboxCounts()
        let sent = try await db.outbox(OutboxFilter(status: .sent, limit: 100_000))
        let sentRefs = Set(sent.map(\.token))
        let viaSMS = sent.filter { $0.channel == "sms" }.count
        // What the stand-in accepted, by reference (the Message-ID's local part).
        let log = (try? String(contentsOfFile: directory + "/gateway.jsonl", encoding: .utf8)) ?? ""
        var accepted: [String: Int] = [:]
        for line in log.split(separator: "\n") {
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                entry["action"] as? String == "SendSms", entry["code"] as? String == "OK",
                let ref = entry["ref"] as? String
            else { continue }
            accepted[ref, default: 0] += 1
        }
        let duplicated = accepted.values.filter { $0 > 1 }.count
        let lost = sentRefs.subtracting(accepted.keys).count
        return [
            String(
                format:
                    "SMS (Alibaba SendSms, signed ACS3-HMAC-SHA256, to the SDK-checked stand-in on loopback): %d due "
                    + "messages in %.2f s: %.0f messages/s (target ≥ 200)",
                due.count, seconds, Double(due.count) / seconds),
            "  outbox: sent \(counts[.sent] ?? 0) (\(viaSMS) by SMS), failed \(counts[.failed] ?? 0), "
                + "dead \(counts[.dead] ?? 0); the gateway accepted \(accepted.count) distinct references: "
                + "\(lost) lost, \(duplicated) duplicated",
        ]
    }
}
