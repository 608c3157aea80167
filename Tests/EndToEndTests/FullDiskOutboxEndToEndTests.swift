import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The outbox on a disk that fills while the daemon sends: the real daemon in its own mount namespace with its state
/// on a small tmpfs (`DaemonOnSmallDisk`), a real SMTP server (aiosmtpd) that holds its answer to the first message
/// until the test has filled the disk.
@Suite(.serialized)
struct FullDiskOutboxEndToEndTests {
    let notices = NoticeEndToEndTests()

    /// The dispatcher's log lines about the full disk.
    func outageLines(_ d: DaemonUnderTest) -> Int {
        d.log().split(separator: "\n").filter { $0.contains("outbox") && $0.contains("disk full") }.count
    }

    @Test func mailSentWhileTheDiskIsFullIsSentOnce_andNothingMoreGoesOutUntilItsOutcomeIsStored() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("fulldisk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let cert = try notices.certificate(in: scratch)
        let out = scratch.appendingPathComponent("received")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let gate = scratch.appendingPathComponent("answer").path
        let smtp = try Peer(
            "smtp_server.py",
            [
                "--out", out.path, "--cert", cert.cert, "--key", cert.key, "--starttls", "--user", "mediation",
                "--password", "s3cret-pw", "--hold", gate,
            ], log: scratch.appendingPathComponent("smtp.log"))
        defer { smtp.stop() }
        // Retries after a second, so that a daemon which did not hold back would send again at once; the client
        // waits long enough for the test to fill the disk.
        let yaml =
            try notices.smtpYAML(port: smtp.port, dir: scratch, cert: cert.cert, retryBase: 1)
            + "\n  timeout_seconds: 300\n"
        let d = try DaemonUnderTest(extraYAML: yaml)
        let disk = DaemonOnSmallDisk(d, size: "16m")
        try disk.start()
        defer { disk.stop() }
        let (number, panel) = try notices.setUp(d)
        let booked = try d.ctl(
            args: ["--json", "session", "book", number, "--at", notices.day(3)] + panel.flatMap { ["--panel", $0] })
        #expect(booked.status == 0, "\(booked)")
        let session = try #require(
            (try JSONSerialization.jsonObject(with: Data(booked.stdout.utf8)) as? [String: Any])?["id"] as? Int)
        let due = try notices.outbox(d, "--session", String(session)).filter {
            $0["kind"] as? String == "notice" && $0["recipientName"] as? String != "赵大爷"
        }
        #expect(due.count == 5, "three experts and two parties with mail")

        // The dispatcher is sending (the server holds its first answer): the disk fills, and writes go on until the
        // store refuses them.
        try notices.waitUntil("the dispatcher's connection") {
            (try? String(contentsOf: out.appendingPathComponent("connections"), encoding: .utf8)) == "1"
        }
        #expect(try disk.fill() > 0)
        var refused = false
        for i in 0..<400 where !refused {
            let r = try d.ctl(
                "office", "add", "full\(i)", "--name", "满盘\(i)", "--address", String(repeating: "长", count: 200))
            refused = r.status != 0
        }
        #expect(refused, "the store never refused a write")

        // The server takes the five; their outcomes cannot be stored. Nothing is sent again, however long it lasts,
        // and the log says so once (not on every try).
        let full = Date()
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        try notices.waitUntil("the five at the server") { notices.mails(out).count >= 5 }
        usleep(8_000_000)
        var ids = notices.mails(out).map(\.messageID)
        #expect(ids.count == 5 && Set(ids).count == 5, "each Message-ID once: \(ids)")
        #expect(Set(ids) == Set(due.compactMap { $0["messageId"] as? String }))
        #expect(
            (try? String(contentsOf: out.appendingPathComponent("connections"), encoding: .utf8)) == "1",
            "no new connection while the outcomes wait")
        let minutes = Int(Date().timeIntervalSince(full) / 60)
        #expect(outageLines(d) >= 1, "the disk was full when the outcomes were to be stored: \(d.log())")
        #expect(outageLines(d) <= 1 + minutes, "once a minute at most, not on every try: \(outageLines(d)) lines")
        #expect(d.log().contains("cannot be stored"), "\(d.log())")
        #expect(
            try notices.outbox(d, "--session", String(session)).filter { $0["status"] as? String == "sent" }.isEmpty,
            "reads go on; nothing is recorded sent yet")

        // Space freed: the outcomes are stored (sent, with one attempt each), nothing goes twice, and a new booking's
        // notices go out.
        disk.free()
        try notices.waitUntil("the outcomes stored", timeout: 60) {
            try notices.outbox(d, "--session", String(session)).filter { $0["status"] as? String == "sent" }.count == 5
        }
        #expect(d.log().contains("outcomes are stored again"), "\(d.log())")
        for row in try notices.outbox(d, "--session", String(session)) where row["status"] as? String == "sent" {
            #expect(row["attempts"] as? Int == 1, "\(row)")
        }
        let opened = try #require(
            try d.json("dispute", "open", "--office", "hq", "--title", "噪音", "--category", "noise") as? [String: Any])
        let second = try #require((opened["dispute"] as? [String: Any])?["number"] as? String)
        #expect(
            try d.ctl("party", "add", second, "--name", "钱多多", "--side", "applicant", "--email", "qian@example.cn")
                .status == 0)
        let again = try d.ctl(
            args: ["--json", "session", "book", second, "--at", notices.day(5)] + panel.flatMap { ["--panel", $0] })
        #expect(again.status == 0, "\(again)")
        try notices.waitUntil("the second booking's notices") { notices.mails(out).count >= 9 }
        usleep(1_000_000)
        ids = notices.mails(out).map(\.messageID)
        #expect(ids.count == 9 && Set(ids).count == 9, "each Message-ID once: \(ids)")
        #expect(outageLines(d) <= 1 + Int(Date().timeIntervalSince(full) / 60))
    }
}
