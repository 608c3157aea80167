import Foundation
import Testing

/// Group chat robots are shared: everyone in the group reads every message. With Jitsi rooms (a signed link per
/// person) and WeCom or DingTalk robots pointed at the local receiver (Tests/peers/chat_receiver.py), the robots get
/// one office-level line per change to a session and nothing personal; a person whose only channel would be a robot
/// is dead with a reason staff can act on, never sent.
@Suite(.serialized)
struct GroupChatEndToEndTests {
    let notices = NoticeEndToEndTests()
    let jitsiSecret = String(repeating: "j", count: 40)

    /// One JSON line per request the receiver took.
    struct Received {
        var json: [String: Any]
        var path: String { json["path"] as? String ?? "" }
        var body: String { json["body"] as? String ?? "" }
        var message: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
        }
        /// The mobiles a robot message mentions.
        var mentions: [String] {
            let m = message
            return ((m["text"] as? [String: Any])?["mentioned_mobile_list"] as? [String])
                ?? ((m["at"] as? [String: Any])?["atMobiles"] as? [String]) ?? []
        }
    }

    func received(_ log: URL) -> [Received] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).map { Received(json: $0) }
        }
    }

    /// A daemon with Jitsi rooms and `robots` (paths on the receiver), and a webhook unless `webhook` is nil: as the
    /// configuration has it by default for "", with `webhook.personal` set to it otherwise.
    func daemon(receiver: Int, robots: [String], webhook: String?) throws -> DaemonUnderTest {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("group-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let secret = scratch.appendingPathComponent("jitsi.secret").path
        try (jitsiSecret + "\n").write(toFile: secret, atomically: true, encoding: .utf8)
        var yaml = """
            rooms:
              provider: jitsi
              jitsi:
                domain: meet.example.org
                app_id: mediation
                secret_file: \(secret)
            notices:
              quiet_hours: none
            web:
              listen: 127.0.0.1:0
              public_url: https://mediation.example.gov.cn
            """
        if robots.contains("wecom") {
            yaml += "\nwecom:\n  url: http://127.0.0.1:\(receiver)/wecom?key=robot-key"
        }
        if robots.contains("dingtalk") {
            yaml += "\ndingtalk:\n  url: http://127.0.0.1:\(receiver)/dingtalk?access_token=t\n  secret: SECding"
        }
        if let webhook {
            yaml += """

                webhook:
                  url: http://127.0.0.1:\(receiver)/webhook
                  secret: hook-secret
                """
            if !webhook.isEmpty { yaml += "\n  personal: \(webhook)" }
        }
        return try DaemonUnderTest(extraYAML: yaml)
    }

    /// An office open all day; a panel whose lead (the legal officer) has only a mobile and prefers WeCom, a lawyer
    /// who prefers WeCom but has mail, and a community staff member with mail; parties with only a mobile and one
    /// with mail. Returns the dispute's number and the panel's ids, the lead first.
    func setUp(_ d: DaemonUnderTest) throws -> (number: String, panel: [Int]) {
        #expect(
            try d.ctl(
                "office", "add", "hq", "--name", "金山警务室", "--phone", "021-5792 0000", "--hours", "mon-sun 00:00-24:00"
            )
            .status == 0)
        let roster = d.dir.appendingPathComponent("roster.csv").path
        try """
        name,role,mobile,email,offices,weekly_hours,time_zone,languages,wecom_user_id,preferred_channel
        王建国,legal_officer,13900000003,,hq,mon-sun 00:00-24:00,Asia/Shanghai,普通话,wangjg,wecom
        Anna Schmidt,lawyer,13900000011,anna@example.de,hq,mon-sun 00:00-24:00,Europe/Berlin,english,anna,wecom
        周敏,community_staff,13900000005,zhou.min@example.org,hq,mon-sun 00:00-24:00,Asia/Shanghai,普通话,,

        """.write(toFile: roster, atomically: true, encoding: .utf8)
        let imported = try d.ctl("expert", "import", roster)
        #expect(imported.status == 0, "\(imported)")
        let opened = try #require(
            try d.json("dispute", "open", "--office", "hq", "--title", "楼上漏水", "--category", "neighbour")
                as? [String: Any])
        let number = try #require((opened["dispute"] as? [String: Any])?["number"] as? String)
        for args in [
            ["--name", "李强", "--side", "applicant", "--mobile", "13812345678"],
            ["--name", "赵大爷", "--side", "respondent", "--mobile", "13700000000"],
            ["--name", "Tom Baker", "--side", "other", "--email", "tom@example.com", "--language", "English"],
        ] {
            let r = try d.ctl(args: ["party", "add", number] + args)
            #expect(r.status == 0, "\(r)")
        }
        let experts = try #require(try d.json("expert", "list", "--office", "hq") as? [String: Any])
        let byName = Dictionary(
            try #require(experts["experts"] as? [[String: Any]]).compactMap { e in
                (e["name"] as? String).flatMap { name in (e["id"] as? Int).map { (name, $0) } }
            }, uniquingKeysWith: { a, _ in a })
        let panel = try ["王建国", "Anna Schmidt", "周敏"].map { try #require(byName[$0]) }
        return (number, panel)
    }

    /// The text part of a mail file, as Python's `email` package decodes it.
    func text(ofMail file: URL) throws -> String {
        let script = """
            import email, email.policy, sys
            message = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
            print(message.get_body(preferencelist=("plain",)).get_content())
            """
        let r = try runProgram(
            Repo.root.appendingPathComponent(".venv/bin/python").path, ["-c", script, file.path])
        guard r.status == 0 else { throw HarnessError("cannot read \(file.path): \(r)") }
        return r.stdout
    }

    /// What must never reach a group: a token, a room link, a party's name or mobile, the notice's text.
    func expectNothingPersonal(_ all: [Received], room: String, number: String) {
        for r in all {
            let body = r.body
            for forbidden in [
                "jwt", "eyJ", "meet.example.org", room, "李强", "赵大爷", "Tom Baker", "13812345678", "13700000000",
                "138****", "137****", "楼上漏水", "议程】", "调解通知", "Mediation agenda", "Dear ", "您好",
                // A personal page (issue 17): its link opens one person's session.
                "/p/", "mediation.example.gov.cn", "/feeds/",
            ] {
                #expect(!body.contains(forbidden), "'\(forbidden)' reached \(r.path): \(body)")
            }
            #expect(body.contains(number), "the line names the dispute: \(body)")
        }
    }

    @Test func groupRobotsCarryOneOfficeLinePerChangeAndNeverAPersonalLinkOrNotice() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID().uuidString).jsonl")
        let receiver = try Peer(
            "chat_receiver.py", [log.path, "hook-secret", "SECding"],
            log: FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID().uuidString).err"))
        defer { receiver.stop() }
        // Both robots and a webhook as the configuration has it by default: shared.
        let d = try daemon(receiver: receiver.port, robots: ["wecom", "dingtalk"], webhook: "")
        try d.start()
        defer { d.stop() }
        let (number, panel) = try setUp(d)
        let booked = try #require(
            try d.json(
                args: ["session", "book", number, "--at", notices.day(3)] + panel.flatMap { ["--panel", "\($0)"] })
                as? [String: Any])
        let session = try #require(booked["id"] as? Int)
        let room = try #require(booked["room"] as? String)

        // The booking: Anna and 周敏 by mail, Tom by mail; the lead and the two parties with only a mobile are dead,
        // and the group hears of the booking once.
        try notices.waitUntil("the booking's line and every notice handled") {
            let rows = try notices.outbox(d, "--session", String(session)).filter { $0["kind"] as? String == "notice" }
            return received(log).count >= 1
                && !rows.contains { ["pending", "failed"].contains($0["status"] as? String) }
        }
        usleep(500_000)
        var all = received(log)
        #expect(all.count == 1, "one line for the booking: \(all.map(\.body))")
        #expect(all.allSatisfy { $0.path == "/wecom" }, "the first group robot carries it: \(all.map(\.path))")
        expectNothingPersonal(all, room: room, number: number)
        let line = try #require(all.first)
        #expect(line.json["verdict"] as? String == "ok", "\(line.json)")
        #expect(Set(line.mentions) == ["13900000003", "13900000011", "13900000005"], "the panel is mentioned")
        let content = ((line.message["text"] as? [String: Any])?["content"] as? String) ?? ""
        #expect(content.contains("10:00（Asia/Shanghai）"), "the time in the office's zone: \(content)")
        #expect(content.contains("个人渠道"), "members are told their links come to them personally: \(content)")

        let rows = try notices.outbox(d, "--session", String(session))
        let personal = rows.filter { ["expert", "party"].contains($0["recipientKind"] as? String) }
        for row in personal where row["status"] as? String == "sent" {
            #expect(row["channel"] as? String == "maildir", "a person's message goes on a personal channel: \(row)")
        }
        let dead = personal.filter { $0["status"] as? String == "dead" }
        #expect(
            Set(dead.compactMap { $0["recipientName"] as? String }) == ["王建国", "李强", "赵大爷"],
            "\(personal.map { "\($0["recipientName"] ?? "") \($0["kind"] ?? "") \($0["status"] ?? "")" })")
        #expect(!personal.contains { ["wecom", "dingtalk", "webhook"].contains($0["channel"] as? String) })
        // What staff read: why, and the command that fixes it.
        let lead = try #require(
            dead.first { $0["recipientName"] as? String == "王建国" && $0["kind"] as? String == "notice" })
        let leadID = try #require(lead["id"] as? Int)
        let shown = try d.ctl("outbox", "show", String(leadID))
        #expect(shown.status == 0, "\(shown)")
        #expect(shown.stdout.contains("status:      dead"), "\(shown.stdout)")
        #expect(shown.stdout.contains("no channel reaches 王建国 on their own"), "\(shown.stdout)")
        #expect(shown.stdout.contains("wecom, dingtalk and webhook are group chats"), "\(shown.stdout)")
        #expect(shown.stdout.contains("mediationctl expert update \(panel[0]) --email ADDRESS"), "\(shown.stdout)")
        #expect(shown.stdout.contains("mediationctl outbox retry \(leadID)"), "\(shown.stdout)")
        let party = try #require(dead.first { $0["recipientName"] as? String == "李强" })
        let partyShown = try d.ctl("outbox", "show", String(try #require(party["id"] as? Int)))
        #expect(
            partyShown.stdout.contains(
                "mediationctl party update \(number) \(party["recipientId"] as? Int ?? 0) --email"),
            "\(partyShown.stdout)")
        // The fix the reason names works: an email, a retry, and the lead's notice (with the moderator link) goes
        // by mail.
        #expect(try d.ctl("expert", "update", String(panel[0]), "--email", "wang.jg@example.org").status == 0)
        #expect(try d.ctl("outbox", "retry", String(leadID)).status == 0)
        try notices.waitUntil("the lead's notice by mail") {
            try notices.outbox(d, "--session", String(session)).contains {
                $0["id"] as? Int == leadID && $0["status"] as? String == "sent"
            }
        }
        let spool = d.dir.appendingPathComponent("state/outbox/new")
        let leadMail = try #require(
            try FileManager.default.contentsOfDirectory(atPath: spool.path).map { spool.appendingPathComponent($0) }
                .first { ((try? String(contentsOf: $0, encoding: .utf8)) ?? "").contains("wang.jg@example.org") })
        #expect(try text(ofMail: leadMail).contains("meet.example.org/\(room)?jwt="), "his own link, by mail")

        // Moved, then cancelled: one line each, still nothing personal.
        #expect(try d.ctl("session", "reschedule", String(session), "--to", notices.day(4)).status == 0)
        try notices.waitUntil("the line about the move") { received(log).count >= 2 }
        #expect(try d.ctl("session", "cancel", String(session), "--reason", "李强已自行和解").status == 0)
        try notices.waitUntil("the line about the cancellation") { received(log).count >= 3 }
        usleep(800_000)
        all = received(log)
        #expect(all.count == 3, "\(all.map(\.body))")
        expectNothingPersonal(all, room: room, number: number)
        #expect(all.map(\.path) == ["/wecom", "/wecom", "/wecom"])
        let texts = all.map { ($0.message["text"] as? [String: Any])?["content"] as? String ?? "" }
        #expect(texts[1].contains("改到") && texts[2].contains("已取消"), "\(texts)")
        #expect(!texts[2].contains("和解"), "the cancellation's reason stays out of the group")
        #expect(!d.log().contains("jwt="), "tokens never reach the log")
    }

    @Test func aDingTalkRobotGetsTheLineAndAPersonalWebhookCarriesTheNoticesOfThoseWithOnlyAMobile() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID().uuidString).jsonl")
        let receiver = try Peer(
            "chat_receiver.py", [log.path, "hook-secret", "SECding"],
            log: FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID().uuidString).err"))
        defer { receiver.stop() }
        // The webhook is an SMS gateway: it delivers each message to its recipient's own number.
        let d = try daemon(receiver: receiver.port, robots: ["dingtalk"], webhook: "true")
        try d.start()
        defer { d.stop() }
        let (number, panel) = try setUp(d)
        let booked = try #require(
            try d.json(
                args: ["session", "book", number, "--at", notices.day(3)] + panel.flatMap { ["--panel", "\($0)"] })
                as? [String: Any])
        let session = try #require(booked["id"] as? Int)
        let room = try #require(booked["room"] as? String)
        try notices.waitUntil("every notice handled and the line sent") {
            let rows = try notices.outbox(d, "--session", String(session)).filter {
                ["notice"].contains($0["kind"] as? String)
            }
            return received(log).contains { $0.path == "/dingtalk" }
                && !rows.contains { ["pending", "failed"].contains($0["status"] as? String) }
        }
        usleep(500_000)
        let all = received(log)
        let robot = all.filter { $0.path == "/dingtalk" }
        #expect(robot.count == 1, "\(robot.map(\.body))")
        expectNothingPersonal(robot, room: room, number: number)
        let line = try #require(robot.first)
        #expect(line.json["verdict"] as? String == "ok", "a signed DingTalk request: \(line.json)")
        #expect(Set(line.mentions) == ["13900000003", "13900000011", "13900000005"])
        let markdown = ((line.message["markdown"] as? [String: Any])?["text"] as? String) ?? ""
        #expect(markdown.contains("10:00（Asia/Shanghai）"), "\(markdown)")

        // The lead and the two parties with only a mobile are reached one by one through the gateway, each with
        // their own link (the lead's is the moderator's); nobody is dead.
        let hooks = all.filter { $0.path == "/webhook" }
        #expect(hooks.allSatisfy { $0.json["verdict"] as? String == "ok" })
        let recipients = hooks.compactMap { (($0.message["recipient"] as? [String: Any])?["name"] as? String) }
        #expect(Set(recipients) == ["王建国", "李强", "赵大爷"], "\(recipients)")
        let leadHook = try #require(hooks.first { $0.body.contains("王建国") })
        #expect(
            (leadHook.message["text"] as? String ?? "").contains("meet.example.org/\(room)?jwt="),
            "the personal channel carries the link")
        let rows = try notices.outbox(d, "--session", String(session)).filter {
            ["expert", "party"].contains($0["recipientKind"] as? String) && $0["kind"] as? String == "notice"
        }
        #expect(rows.allSatisfy { $0["status"] as? String == "sent" }, "\(rows)")
        #expect(!rows.contains { $0["channel"] as? String == "dingtalk" })
    }

    @Test func aWebhookIsSharedUnlessTheConfigurationSaysPlainlyThatItIsPersonal() throws {
        let d = try DaemonUnderTest(
            extraYAML: "webhook:\n  url: http://127.0.0.1:9/hook\n  secret: hook-secret\n  personal: maybe")
        let refused = try runProgram(Repo.daemon, ["--config", d.config])
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("webhook.personal 'maybe' is not true or false"), "\(refused)")
        #expect(refused.stderr.contains("an SMS gateway"), "\(refused)")
    }
}
