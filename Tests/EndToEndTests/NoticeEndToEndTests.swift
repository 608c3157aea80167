import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real peer process (an SMTP server) that prints "ready PORT" when it listens.
final class Peer {
    let process = Process()
    let port: Int
    private let input = Pipe()

    init(_ script: String, _ arguments: [String], log: URL) throws {
        let python = Repo.root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw HarnessError("no \(python): run 'make python-env' (make test does) to install the test peers")
        }
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Repo.root.appendingPathComponent("Tests/peers/\(script)").path] + arguments
        process.standardOutput = output
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        // The peer exits when its stdin closes, so a test that dies leaves no server behind.
        process.standardInput = input
        try process.run()
        var line = Data()
        let handle = output.fileHandleForReading
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !String(decoding: line, as: UTF8.self).contains("\n") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("ready "),
            let port = Int(text.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            process.terminate()
            throw HarnessError(
                "\(script) did not start: \(text) \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        self.port = port
    }

    /// Closes its stdin (the peer exits on that), then SIGTERM, then SIGKILL; waits with waitpid, which unlike
    /// Process.waitUntilExit cannot hang on a run loop.
    func stop() {
        try? input.fileHandleForWriting.close()
        let pid = process.processIdentifier
        guard pid > 0 else { return }
        for (signal, wait) in [(SIGTERM, 3.0), (SIGKILL, 3.0)] {
            let deadline = Date().addingTimeInterval(wait)
            while Date() < deadline {
                var status: Int32 = 0
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || r < 0 { return }
                usleep(20_000)
            }
            kill(pid, signal)
        }
    }

    deinit { stop() }
}

/// A TCP port nobody listens on right now.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Notices, invites and the outbox through the real daemon, a real SMTP server (aiosmtpd with STARTTLS and
/// AUTH) and a real iCalendar parser.
@Suite(.serialized)
struct NoticeEndToEndTests {
    struct Mail {
        var json: [String: Any]
        var parsed: [String: Any] { json["parsed"] as? [String: Any] ?? [:] }
        var to: [String] { (json["rcpt_tos"] as? [String]) ?? [] }
        var subject: String { parsed["subject"] as? String ?? "" }
        var text: String { parsed["text"] as? String ?? "" }
        var messageID: String { parsed["message_id"] as? String ?? "" }
    }

    /// A self-signed certificate for localhost, made for this test.
    func certificate(in dir: URL) throws -> (cert: String, key: String) {
        let cert = dir.appendingPathComponent("cert.pem").path
        let key = dir.appendingPathComponent("key.pem").path
        let r = try runProgram(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "2", "-keyout",
                key, "-out", cert, "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            ])
        guard r.status == 0 else { throw HarnessError("openssl failed: \(r)") }
        return (cert, key)
    }

    func smtpYAML(port: Int, dir: URL, cert: String, retryBase: Int = 30) throws -> String {
        let pw = dir.appendingPathComponent("smtp.pw").path
        try "s3cret-pw\n".write(toFile: pw, atomically: true, encoding: .utf8)
        return """
            notices:
              email: smtp
              from: "金山调解室 <office@jinshan.example>"
              domain: jinshan.example
              retry:
                base_seconds: \(retryBase)
                max_seconds: \(retryBase * 2)
            smtp:
              host: localhost
              port: \(port)
              security: starttls
              username: mediation
              password_file: \(pw)
              ca_file: \(cert)
            """
    }

    func startSMTP(_ dir: URL, out: URL, cert: (cert: String, key: String), port: Int = 0) throws -> Peer {
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        return try Peer(
            "smtp_server.py",
            [
                "--out", out.path, "--port", String(port), "--cert", cert.cert, "--key", cert.key, "--starttls",
                "--user", "mediation", "--password", "s3cret-pw",
            ], log: dir.appendingPathComponent("smtp.log"))
    }

    func mails(_ out: URL) -> [Mail] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter {
            $0.hasPrefix("msg-") && $0.hasSuffix(".json")
        }.sorted()
        return files.compactMap { f in
            guard let data = FileManager.default.contents(atPath: out.appendingPathComponent(f).path),
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { return nil }
            return Mail(json: json)
        }
    }

    /// An office open all day every day, three experts with mail (one in Berlin who reads English), a dispute
    /// with two parties who have mail and one who has none. Returns the dispute number and the panel's ids.
    func setUp(_ d: DaemonUnderTest) throws -> (String, [String]) {
        #expect(
            try d.ctl(
                "office", "add", "hq", "--name", "金山警务室", "--phone", "021-5792 0000", "--hours",
                "mon-sun 00:00-24:00"
            ).status == 0)
        let roster = d.dir.appendingPathComponent("roster.csv").path
        try """
        name,role,mobile,email,offices,weekly_hours,time_zone,languages
        王建国,legal_officer,13900000003,wang.jg@example.org,hq,mon-sun 00:00-24:00,Asia/Shanghai,普通话
        Anna Schmidt,lawyer,13900000011,anna@example.de,hq,mon-sun 00:00-24:00,Europe/Berlin,english
        周敏,community_staff,13900000005,zhou.min@example.org,hq,mon-sun 00:00-24:00,Asia/Shanghai,普通话

        """.write(toFile: roster, atomically: true, encoding: .utf8)
        let imported = try d.ctl("expert", "import", roster)
        #expect(imported.status == 0, "\(imported)")
        let opened = try #require(
            try d.json("dispute", "open", "--office", "hq", "--title", "楼上漏水", "--category", "neighbour")
                as? [String: Any])
        let number = try #require((opened["dispute"] as? [String: Any])?["number"] as? String)
        for args in [
            ["--name", "李强", "--side", "applicant", "--email", "li.qiang@example.cn", "--mobile", "13812345678"],
            ["--name", "Tom Baker", "--side", "respondent", "--email", "tom@example.com", "--language", "English"],
            ["--name", "赵大爷", "--side", "other", "--mobile", "13700000000"],
        ] {
            let r = try d.ctl(args: ["party", "add", number] + args)
            #expect(r.status == 0, "\(r)")
        }
        let experts = try #require(try d.json("expert", "list", "--office", "hq") as? [String: Any])
        let ids = try #require(experts["experts"] as? [[String: Any]]).compactMap { $0["id"] as? Int }.map(String.init)
        return (number, ids)
    }

    /// 10:00 in Shanghai, `days` from today.
    func day(_ days: Int) -> String {
        let f = DateFormatter()
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date().addingTimeInterval(Double(days) * 86400)) + " 10:00"
    }

    func outbox(_ d: DaemonUnderTest, _ args: String...) throws -> [[String: Any]] {
        let list = try #require(try d.json(args: ["outbox", "list"] + args) as? [String: Any])
        return try #require(list["messages"] as? [[String: Any]])
    }

    func waitUntil(_ what: String, timeout: Double = 30, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(100_000)
        }
        throw HarnessError("timed out waiting for \(what)")
    }

    func ics(_ mail: Mail, _ dir: URL) throws -> [String: Any] {
        let parts = (mail.parsed["calendar"] as? [String: Any])?["content"] as? String
        let text = try #require(parts, "no calendar part in \(mail.subject)")
        let file = dir.appendingPathComponent("invite-\(UUID().uuidString).ics")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let python = Repo.root.appendingPathComponent(".venv/bin/python").path
        let r = try runProgram(python, [Repo.root.appendingPathComponent("Tests/peers/ics_check.py").path, file.path])
        guard r.status == 0 else { throw HarnessError("icalendar refused the invite: \(r)") }
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    @Test func aBookingsNoticesReachARealSMTPServerWithInvitesAndChangesFollow() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("notice-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let cert = try certificate(in: scratch)
        let out = scratch.appendingPathComponent("received")
        let smtp = try startSMTP(scratch, out: out, cert: cert)
        defer { smtp.stop() }
        let d = try DaemonUnderTest(extraYAML: try smtpYAML(port: smtp.port, dir: scratch, cert: cert.cert))
        try d.start()
        defer { d.stop() }
        let (number, panel) = try setUp(d)
        let booked = try d.ctl(
            args: ["--json", "session", "book", number, "--at", day(3)] + panel.flatMap { ["--panel", $0] })
        #expect(booked.status == 0, "\(booked)")
        let session = try #require(
            (try JSONSerialization.jsonObject(with: Data(booked.stdout.utf8)) as? [String: Any])?["id"] as? Int)

        // Three experts and two parties with mail: five notices over one connection; the party without mail is
        // dead with a reason staff can act on; reminders wait for their time.
        try waitUntil("five notices") { mails(out).count >= 5 }
        usleep(300_000)
        let received = mails(out)
        #expect(received.count == 5)
        #expect(
            Set(received.flatMap(\.to))
                == [
                    "wang.jg@example.org", "anna@example.de", "zhou.min@example.org", "li.qiang@example.cn",
                    "tom@example.com",
                ])
        let connections = try String(contentsOf: out.appendingPathComponent("connections"), encoding: .utf8)
        #expect(connections.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "one SMTP connection per batch")
        for m in received {
            #expect((m.json["tls"] as? Bool) == true, "sent over TLS")
            #expect((m.json["auth_login"] as? String) == "mediation")
        }
        let anna = try #require(received.first { $0.to == ["anna@example.de"] })
        #expect(anna.subject.hasPrefix("Mediation agenda: \(number)"), "\(anna.subject)")
        #expect(anna.text.contains("03:00 (Europe/Berlin)"), "the time in her own zone: \(anna.text)")
        #expect(anna.text.contains("10:00 (Asia/Shanghai)"), "and the office's")
        #expect(anna.text.contains("赵大爷") && anna.text.contains("138****5678"), "parties named, mobiles masked")
        let wang = try #require(received.first { $0.to == ["wang.jg@example.org"] })
        #expect(wang.subject.hasPrefix("【联合调解议程】\(number)"), "\(wang.subject)")
        #expect(wang.text.contains("您是本场主持人"), "the legal officer leads")
        #expect(wang.text.contains("民转刑"), "the legal officer's angle")
        // The dispute's category and risk in the notice's own language, never the codes in a Chinese notice.
        #expect(wang.text.contains("楼上漏水（邻里，风险等级 低）"), "\(wang.text)")
        #expect(!wang.text.contains("neighbour") && !wang.text.contains(" low"), "\(wang.text)")
        #expect(anna.text.contains("(neighbour, risk low)"), "\(anna.text)")
        let tom = try #require(received.first { $0.to == ["tom@example.com"] })
        #expect(tom.subject.hasPrefix("Mediation session \(number)"), "\(tom.subject)")
        #expect(tom.text.contains("identity card"))
        let li = try #require(received.first { $0.to == ["li.qiang@example.cn"] })
        #expect(li.subject.hasPrefix("【调解通知】"))
        #expect(li.text.contains("021-5792 0000"), "whom to call")

        #expect((anna.parsed["calendar"] as? [String: Any])?["method"] as? String == "REQUEST")
        #expect((anna.parsed["attachments"] as? [[String: Any]])?.first?["filename"] as? String == "invite.ics")
        let request = try ics(anna, scratch)
        #expect(request["method"] as? String == "REQUEST")
        #expect(request["uid"] as? String == "session-\(session)@jinshan.example")
        #expect(request["sequence"] as? Int == 0)
        #expect((request["organizer"] as? [String: Any])?["address"] as? String == "office@jinshan.example")
        let attendees = try #require(request["attendees"] as? [[String: Any]])
        #expect(attendees.count == 1)
        #expect(attendees.first?["address"] as? String == "anna@example.de")
        #expect(attendees.first?["partstat"] as? String == "NEEDS-ACTION")
        #expect(attendees.first?["rsvp"] as? String == "TRUE")
        #expect(Set((request["tzids_used"] as? [String]) ?? []) == ["Europe/Berlin"])
        #expect((request["vtimezones"] as? [[String: Any]])?.map { $0["tzid"] as? String } == ["Europe/Berlin"])
        #expect(
            (request["dtstart"] as? [String: Any])?["utc"] as? String == (request["dtstart"] as? [String: Any])?[
                "utc_by_name"] as? String)

        var messages = try outbox(d, "--session", String(session))
        let dead = messages.filter { $0["status"] as? String == "dead" }
        #expect(dead.count == 1)
        let deadError = (dead.first?["lastError"] as? String) ?? ""
        #expect(deadError.contains("no channel reaches 赵大爷"), "\(deadError)")
        #expect(
            messages.filter { $0["kind"] as? String == "reminder" && $0["status"] as? String == "pending" }.count == 12)

        // Moved: one update each, the same UID with a higher SEQUENCE and a newer DTSTAMP; new reminders.
        #expect(try d.ctl("session", "reschedule", String(session), "--to", day(4)).status == 0)
        try waitUntil("five updates") { mails(out).count >= 10 }
        usleep(300_000)
        let updates = Array(mails(out).dropFirst(5))
        #expect(updates.count == 5)
        let annaUpdate = try #require(updates.first { $0.to == ["anna@example.de"] })
        #expect(annaUpdate.subject.hasPrefix("Mediation moved"))
        let update = try ics(annaUpdate, scratch)
        #expect(update["uid"] as? String == request["uid"] as? String)
        #expect(update["sequence"] as? Int == 1)
        #expect((update["dtstamp"] as? String ?? "") > (request["dtstamp"] as? String ?? "~"))
        messages = try outbox(d, "--session", String(session))
        #expect(
            messages.filter { $0["kind"] as? String == "reminder" && $0["status"] as? String == "skipped" }.count == 12)
        #expect(
            messages.filter { $0["kind"] as? String == "reminder" && $0["status"] as? String == "pending" }.count == 12)

        // Cancelled: METHOD:CANCEL with STATUS:CANCELLED to everyone who heard of it; reminders never go.
        #expect(try d.ctl("session", "cancel", String(session), "--reason", "当事人已自行和解").status == 0)
        try waitUntil("five cancellations") { mails(out).count >= 15 }
        usleep(300_000)
        let cancels = Array(mails(out).dropFirst(10))
        #expect(cancels.count == 5)
        let liCancel = try #require(cancels.first { $0.to == ["li.qiang@example.cn"] })
        #expect(liCancel.subject.hasPrefix("【调解取消】"))
        #expect(liCancel.text.contains("当事人已自行和解"))
        let cancel = try ics(liCancel, scratch)
        #expect(cancel["method"] as? String == "CANCEL")
        #expect(cancel["status"] as? String == "CANCELLED")
        #expect(cancel["sequence"] as? Int == 2)
        #expect(Set((cancel["tzids_used"] as? [String]) ?? []) == ["Asia/Shanghai"])
        messages = try outbox(d, "--session", String(session))
        #expect(!messages.contains { $0["kind"] as? String == "reminder" && $0["status"] as? String == "pending" })

        // Every Message-ID is distinct and stable: the outbox shows the ones the server received.
        let sentIDs = Set(
            messages.filter { $0["status"] as? String == "sent" }.compactMap { $0["messageId"] as? String })
        #expect(sentIDs.count == 15)
        #expect(Set(mails(out).map(\.messageID)) == sentIDs)

        // Attempts are kept; the data survive a restart.
        let first = try #require(messages.first { $0["status"] as? String == "sent" }?["id"] as? Int)
        let shown = try #require(try d.json("outbox", "show", String(first)) as? [String: Any])
        #expect((shown["attempts"] as? [[String: Any]])?.first?["result"] as? String == "sent")
        d.stop()
        try d.start()
        #expect(try outbox(d, "--session", String(session)).count == messages.count)
    }

    @Test func aDaemonKilledWhileTheMailServerIsDownSendsEveryDueMessageOnceItIsBack() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let cert = try certificate(in: scratch)
        let out = scratch.appendingPathComponent("received")
        let port = freePort()
        let d = try DaemonUnderTest(
            extraYAML: try smtpYAML(port: port, dir: scratch, cert: cert.cert, retryBase: 1))
        try d.start()
        let (number, panel) = try setUp(d)
        var sessions: [Int] = []
        // Three disputes, three sessions on different days; the mail server is not there yet.
        var numbers = [number]
        for i in 1..<3 {
            let opened = try #require(
                try d.json("dispute", "open", "--office", "hq", "--title", "纠纷 \(i)", "--category", "noise")
                    as? [String: Any])
            numbers.append(try #require((opened["dispute"] as? [String: Any])?["number"] as? String))
            let r = try d.ctl(
                "party", "add", numbers[i], "--name", "当事人\(i)", "--side", "applicant", "--email", "p\(i)@example.cn")
            #expect(r.status == 0)
        }
        for (i, n) in numbers.enumerated() {
            let r = try d.ctl(
                args: ["--json", "session", "book", n, "--at", day(3 + i)] + panel.flatMap { ["--panel", $0] })
            #expect(r.status == 0, "\(r)")
            sessions.append(
                try #require(
                    (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["id"] as? Int))
        }
        try waitUntil("failed attempts") {
            try outbox(d, "--status", "failed").count >= 4
        }
        // Cancelled before anything reached anyone: nothing about it may ever be sent, not even the cancellation.
        #expect(try d.ctl("session", "cancel", String(sessions[2]), "--reason", "重复登记").status == 0)
        kill(d.process?.processIdentifier ?? 0, SIGKILL)
        d.process?.waitUntilExit()

        // The server comes up on the configured port; the daemon restarts, is killed once more mid-delivery,
        // and restarts again.
        let smtp = try startSMTP(scratch, out: out, cert: cert, port: port)
        defer { smtp.stop() }
        try d.start()
        usleep(UInt32.random(in: 50_000...400_000))
        kill(d.process?.processIdentifier ?? 0, SIGKILL)
        d.process?.waitUntilExit()
        try d.start()
        defer { d.stop() }
        // Session 1: three experts and three parties, one without mail (dead at once); session 2: three experts and
        // one party.
        let expected = try outbox(d).filter {
            ($0["kind"] as? String) == "notice" && ($0["session"] as? Int) != sessions[2]
                && ($0["status"] as? String) != "dead"
        }
        #expect(expected.count == 5 + 4)
        do {
            try waitUntil("every due notice", timeout: 60) {
                try outbox(d).filter { ($0["kind"] as? String) == "notice" && ($0["status"] as? String) == "sent" }
                    .count >= expected.count
            }
        } catch {
            let notices = try outbox(d).filter { ($0["kind"] as? String) == "notice" }.map {
                "\($0["id"] ?? "") s\($0["session"] ?? "") \($0["status"] ?? "") \($0["attempts"] ?? "") \($0["lastError"] ?? "")"
            }
            Issue.record("\(error): \(notices.joined(separator: "\n"))")
            throw error
        }
        usleep(300_000)
        let receivedIDs = Set(mails(out).map(\.messageID))
        let due = Set(expected.compactMap { $0["messageId"] as? String })
        #expect(due.isSubset(of: receivedIDs), "every due message arrived at least once")
        #expect(!mails(out).contains { $0.subject.contains(numbers[2]) || $0.text.contains(numbers[2]) })
        let cancelled = try outbox(d, "--session", String(sessions[2]))
        #expect(!cancelled.isEmpty && cancelled.allSatisfy { $0["status"] as? String == "skipped" })
        // Dead ones (the party without mail) can be sent again once fixed; retrying a sent one is refused.
        let sent = try #require(expected.first?["id"] as? Int)
        let again = try d.ctl("outbox", "retry", String(sent))
        #expect(again.status == 2 && again.stderr.contains("only failed, dead or pending"), "\(again)")
    }

    @Test func theEmbeddedDefaultWritesEveryNoticeToTheSpoolAndBadInputIsRefused() throws {
        let d = try DaemonUnderTest()
        try d.start()
        defer { d.stop() }
        let (number, panel) = try setUp(d)
        let booked = try d.ctl(
            args: ["--json", "session", "book", number, "--at", day(3)] + panel.flatMap { ["--panel", $0] })
        #expect(booked.status == 0)
        let spool = d.dir.appendingPathComponent("state/outbox/new")
        try waitUntil("five .eml files") {
            ((try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []).filter { $0.hasSuffix(".eml") }
                .count >= 5
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: spool.path)
        let eml = try String(contentsOf: spool.appendingPathComponent(try #require(files.first)), encoding: .utf8)
        #expect(eml.contains("Message-ID: <s"))
        #expect(eml.contains("text/calendar; method=REQUEST") || eml.contains("text/calendar;method=REQUEST"))
        let session = try #require(
            (try JSONSerialization.jsonObject(with: Data(booked.stdout.utf8)) as? [String: Any])?["id"] as? Int)
        let preview = try d.ctl("outbox", "preview", String(session))
        #expect(preview.status == 0)
        #expect(preview.stdout.contains("Channels: maildir") && preview.stdout.contains("none reaches them"))
        #expect(preview.stdout.contains("Mediation agenda") && preview.stdout.contains("【调解通知】"))

        let bad = try d.ctl("outbox", "list", "--status", "lost")
        #expect(bad.status == 2 && bad.stderr.contains("--status 'lost' is unknown"), "\(bad)")
        let missing = try d.ctl("outbox", "show", "99999")
        #expect(missing.status == 2 && missing.stderr.contains("no outbox message #99999"), "\(missing)")
        let both = try d.ctl("outbox", "retry")
        #expect(both.status == 2 && both.stderr.contains("give a message id, or --dead"), "\(both)")
        let noSMTP = try d.ctl("channel", "test", "smtp", "--to", "a@example.org")
        #expect(noSMTP.status == 2 && noSMTP.stderr.contains("smtp is not configured"), "\(noSMTP)")
        let unknown = try d.ctl("channel", "test", "pigeon", "--to", "a@example.org")
        #expect(unknown.status == 2 && unknown.stderr.contains("channel 'pigeon' is unknown"), "\(unknown)")
        let test = try d.ctl("channel", "test", "maildir", "--to", "duty@example.org")
        #expect(test.status == 0 && test.stdout.contains("maildir: sent"), "\(test)")
        let retried = try d.ctl("outbox", "retry", "--dead")
        #expect(retried.status == 0 && retried.stdout.contains("1 dead message pending again"), "\(retried)")
    }
}
