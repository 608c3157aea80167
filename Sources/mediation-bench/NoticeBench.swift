import Foundation
import Glibc
import MediationCore
import MediationNotify
import MediationStore

/// 10,000 due messages delivered over SMTP (STARTTLS and AUTH) to a local aiosmtpd server by the daemon's own
/// dispatcher, with counts that prove none was lost or duplicated.
enum NoticeBench {
    static func run(directory: String, python: String, peer: String, sessions: Int = 2500) async throws -> [String] {
        // The server: the test peer, with a certificate made here.
        let cert = directory + "/cert.pem"
        let key = directory + "/key.pem"
        try runQuiet(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "2", "-keyout", key,
                "-out", cert, "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        let received = directory + "/received"
        try FileManager.default.createDirectory(atPath: received, withIntermediateDirectories: true)
        let server = try BenchPeer(
            python: python,
            arguments: [
                peer, "--out", received, "--cert", cert, "--key", key, "--starttls", "--user", "bench", "--password",
                "pw", "--fast",
            ], what: "the SMTP peer")
        defer { server.stop() }
        let port = server.port

        // The store: an office open all day, 30 experts in trios, one party with mail per dispute; every booking
        // queues four notices (three experts, one party) due now, and reminders for later.
        let db = try AppDatabase.open(path: directory + "/notices.sqlite")
        try await fill(
            db, sessions: sessions,
            expert: { t, r in
                (email: "e\(t)-\(r)@example.org", mobile: "139\(String(format: "%08d", t * 10 + r))")
            },
            party: { i in Party(name: "当事人\(i)", side: .applicant, email: "p\(i)@example.cn") })
        let due = try await db.dueMessages(limit: 1_000_000).messages
        let dispatcher = OutboxDispatcher(
            db: db,
            renderer: NoticeRenderer(settings: NoticeSettings(), templates: try NoticeTemplates.load(directory: nil)),
            channels: ChannelSet(
                mail: TimedChannel(
                    inner: SMTPChannel(
                        settings: SMTPSettings(
                            host: "localhost", port: port, security: .starttls, username: "bench", password: "pw",
                            caFile: cert)))),
            retry: RetryPolicy())
        let start = DispatchTime.now().uptimeNanoseconds
        while try await dispatcher.deliverDue() > 0 {}
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let inChannel = TimedChannel.total.value

        let counts = try await db.outboxCounts()
        let sentIDs = Set(
            try await db.outbox(OutboxFilter(status: .sent, limit: 100_000)).map { "<\($0.token)@mediation.local>" })
        var receivedIDs: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: received) where file.hasSuffix(".id") {
            guard let text = try? String(contentsOfFile: received + "/" + file, encoding: .utf8) else { continue }
            receivedIDs.append(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let unique = Set(receivedIDs)
        let connections =
            (try? String(contentsOfFile: received + "/connections", encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines) ?? "?"
        return [
            String(
                format:
                    "notices over SMTP (STARTTLS + AUTH, aiosmtpd on loopback): %d due messages in %.2f s: %.0f messages/s (target ≥ 200)",
                due.count, seconds, Double(due.count) / seconds),
            "  outbox: sent \(counts[.sent] ?? 0), failed \(counts[.failed] ?? 0), dead \(counts[.dead] ?? 0); "
                + "server received \(receivedIDs.count) messages, \(unique.count) distinct Message-IDs, "
                + "equal to the sent set: \(unique == sentIDs); \(connections) SMTP connections; "
                + String(format: "%.1f s in the SMTP exchange", inChannel),
        ]
    }
}

/// Times the channel's part of delivery.
struct TimedChannel: NotificationChannel {
    static let total = Locked<Double>(0)
    let inner: any NotificationChannel
    var name: String { inner.name }
    var reach: ChannelReach { inner.reach }
    var keepsQuietHours: Bool { inner.keepsQuietHours }
    func accepts(_ message: PreparedMessage) -> Bool { inner.accepts(message) }
    func deliver(_ batch: [PreparedMessage], taken: @escaping @Sendable (String) -> Void) async -> [DeliveryResult] {
        let start = DispatchTime.now().uptimeNanoseconds
        let results = await inner.deliver(batch, taken: taken)
        let spent = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        Self.total.set(Self.total.value + spent)
        return results
    }
}

extension NoticeBench {
    /// An office open all day, experts in trios (`sessions / 25` of them) and a dispute per session with one party,
    /// each booked in the coming days: every booking queues four notices due now, and reminders for later.
    static func fill(
        _ db: AppDatabase, sessions: Int, expert: (Int, Int) -> (email: String?, mobile: String?),
        party: (Int) -> Party
    ) async throws {
        let allDay = try WeeklyWindow.parseList("mon-sun 00:00-24:00", field: "hours")
        _ = try await db.createOffice(Office(id: "bench", name: "基准警务室", workingHours: allDay))
        var trios: [[Int64]] = []
        for t in 0..<(sessions / 25) {
            var trio: [Int64] = []
            for (r, role) in [ExpertRole.legalOfficer, .lawyer, .communityStaff].enumerated() {
                let address = expert(t, r)
                trio.append(
                    try await db.createExpert(
                        Expert(
                            name: "专家\(t)-\(r)", role: role, offices: ["bench"], email: address.email,
                            mobile: address.mobile, maxSessionsPerDay: 24, maxSessionsPerWeek: 100,
                            weeklyHours: allDay)
                    ).id)
            }
            trios.append(trio)
        }
        let actor = Actor(uid: 0, user: "bench", isAdmin: true)
        let base = (Int(Date().timeIntervalSince1970) / 7200 + 48) * 7200
        for i in 0..<sessions {
            let detail = try await db.openDispute(
                Dispute(officeId: "bench", title: "纠纷 \(i)", category: "other"), parties: [party(i)],
                categories: ["other"], actor: actor)
            _ = try await db.book(
                dispute: detail.dispute.number,
                start: Date(timeIntervalSince1970: Double(base + (i / trios.count) * 7200)),
                durationMinutes: 60, panel: trios[i % trios.count], policy: nil, rules: SchedulingRules(), room: nil,
                actor: actor)
        }
    }
}

/// A Python test peer run for a benchmark: it prints `ready PORT` once it listens and exits when its standard input
/// closes.
struct BenchPeer {
    let process = Process()
    let input = Pipe()
    let port: Int

    init(python: String, arguments: [String], what: String) throws {
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let ready = String(decoding: line, as: UTF8.self)
        guard ready.hasPrefix("ready "),
            let port = Int(ready.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            process.terminate()
            throw BenchError("\(what) did not start: \(ready)")
        }
        self.port = port
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        kill(process.processIdentifier, SIGTERM)
        var status: Int32 = 0
        waitpid(process.processIdentifier, &status, 0)
    }
}
