import Foundation
import Testing

/// Personal work-chat channels (issue 17, item 2): WeCom application messages and DingTalk work notifications
/// through the local stand-in (Tests/peers/chat_apps.py) with the documented token flow. Tokens are cached and
/// fetched again once when the service says they expired; a rate-limit answer is backed off; a member the service
/// does not know is dead with the command that corrects the id. The personal messages carry the person's page; the
/// office's group robot (Tests/peers/chat_receiver.py) never does, over every message of the test.
@Suite(.serialized) struct WorkChatAppsEndToEndTests {
    let notices = NoticeEndToEndTests()

    func lines(_ log: URL) -> [[String: Any]] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    func control(_ port: Int, _ body: String) throws {
        let r = try runProgram(
            "/usr/bin/curl",
            [
                "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-d", body,
                "http://127.0.0.1:\(port)/_control",
            ])
        guard r.stdout == "200" else { throw HarnessError("the stand-in's /_control answered \(r)") }
    }

    @Test func expertsAreToldInWeComAndDingTalkWithTheirPageAndTheGroupNeverIs() throws {
        let appLog = FileManager.default.temporaryDirectory.appendingPathComponent("apps-\(UUID().uuidString).jsonl")
        let apps = try Peer(
            "chat_apps.py", [appLog.path],
            log: FileManager.default.temporaryDirectory.appendingPathComponent("apps-\(UUID().uuidString).err"))
        defer { apps.stop() }
        let robotLog = FileManager.default.temporaryDirectory.appendingPathComponent("robot-\(UUID().uuidString).jsonl")
        let robot = try Peer(
            "chat_receiver.py", [robotLog.path, "hook-secret", "SECding"],
            log: FileManager.default.temporaryDirectory.appendingPathComponent("robot-\(UUID().uuidString).err"))
        defer { robot.stop() }
        let d = try DaemonUnderTest(
            extraYAML: """
                web:
                  listen: 127.0.0.1:0
                  public_url: https://mediation.example.gov.cn
                notices:
                  quiet_hours: none
                  retry:
                    base_seconds: 5
                wecom:
                  url: http://127.0.0.1:\(robot.port)/wecom?key=robot-key
                  corp_id: ww-test-corp
                  secret: wecom-test-secret
                  agent_id: 1000002
                  api: http://127.0.0.1:\(apps.port)
                dingtalk:
                  app_key: ding-test-key
                  app_secret: ding-test-secret
                  agent_id: 2000001
                  api: http://127.0.0.1:\(apps.port)
                """, movableClock: true)
        try d.start()
        defer { d.stop() }
        #expect(
            try d.ctl(
                "office", "add", "hq", "--name", "金山警务室", "--phone", "021-5792 0000", "--hours", "mon-sun 00:00-24:00"
            ).status == 0)
        let roster = d.dir.appendingPathComponent("roster.csv").path
        try """
        name,role,mobile,email,offices,weekly_hours,time_zone,languages,wecom_user_id,dingtalk_mobile,preferred_channel
        王建国,legal_officer,13900000009,,hq,mon-sun 00:00-24:00,Asia/Shanghai,普通话,zhangsan,,wecom
        陈律师,lawyer,13900000022,,hq,mon-sun 00:00-24:00,Asia/Shanghai,普通话,lisi,,wecom
        周敏,community_staff,13900000031,,hq,mon-sun 00:00-24:00,Asia/Shanghai,普通话,,13900000001,dingtalk

        """.write(toFile: roster, atomically: true, encoding: .utf8)
        let imported = try d.ctl("expert", "import", roster)
        #expect(imported.status == 0 && !imported.stderr.contains("warning"), "each is reached: \(imported)")
        let opened = try #require(
            try d.json("dispute", "open", "--office", "hq", "--title", "楼上漏水", "--category", "neighbour")
                as? [String: Any])
        let number = try #require((opened["dispute"] as? [String: Any])?["number"] as? String)
        #expect(
            try d.ctl("party", "add", number, "--name", "李强", "--side", "applicant", "--email", "lq@example.org").status
                == 0)
        let experts = try #require(
            (try d.json("expert", "list", "--office", "hq") as? [String: Any])?["experts"] as? [[String: Any]])
        let ids = Dictionary(
            uniqueKeysWithValues: experts.compactMap { e in
                (e["name"] as? String).flatMap { n in (e["id"] as? Int).map { (n, $0) } }
            })
        let panel = try ["王建国", "陈律师", "周敏"].map { try #require(ids[$0]) }
        let booked = try #require(
            try d.json(
                args: ["session", "book", number, "--at", notices.day(3)] + panel.flatMap { ["--panel", "\($0)"] })
                as? [String: Any])
        let session = try #require(booked["id"] as? Int)
        #expect((booked["unreached"] as? [[String: Any]] ?? []).isEmpty, "\(booked)")
        func expertRows(_ kind: String) throws -> [[String: Any]] {
            try notices.outbox(d, "--session", String(session)).filter {
                $0["recipientKind"] as? String == "expert" && $0["kind"] as? String == kind
            }
        }
        try notices.waitUntil("the three experts' notices sent") {
            try expertRows("notice").filter { $0["status"] as? String == "sent" }.count == 3
        }
        let rows = try expertRows("notice")
        #expect(
            Set(rows.compactMap { $0["channel"] as? String }) == ["wecom-app", "dingtalk-app"], "\(rows)")

        // Each went to its member, with the member's own page; one token per application, kept.
        let links = try #require(try d.json("session", "links", String(session)) as? [String: Any])
        let pages = Dictionary(
            uniqueKeysWithValues: try #require(links["links"] as? [[String: Any]]).compactMap { l in
                (l["expert"] as? Int).flatMap { e in (l["page"] as? String).map { (e, $0) } }
            })
        let sent = lines(appLog).filter { ($0["path"] as? String ?? "").contains("send") && $0["errcode"] as? Int == 0 }
        #expect(sent.count == 3, "\(sent)")
        for (name, member) in [("王建国", "zhangsan"), ("陈律师", "lisi")] {
            let message = try #require(
                sent.first { ($0["body"] as? [String: Any])?["touser"] as? String == member }, "\(member): \(sent)")
            let body = try #require(message["body"] as? [String: Any])
            #expect(body["agentid"] as? Int == 1_000_002 && body["msgtype"] as? String == "text")
            let content = try #require((body["text"] as? [String: Any])?["content"] as? String)
            let expert = try #require(ids[name])
            let page = try #require(pages[expert])
            #expect(content.contains(page), "\(content)")
            #expect(content.contains(number), "\(content)")
        }
        let ding = try #require(sent.first { $0["app"] as? String == "dingtalk" }, "\(sent)")
        let dingBody = try #require(ding["body"] as? [String: Any])
        #expect(dingBody["userid_list"] as? String == "dt-user-1", "found by the mobile: \(dingBody)")
        let dingText = try #require(
            ((dingBody["msg"] as? [String: Any])?["text"] as? [String: Any])?["content"] as? String)
        let zhou = try #require(ids["周敏"])
        let zhouPage = try #require(pages[zhou])
        #expect(dingText.contains(zhouPage), "\(dingText)")
        let tokens = lines(appLog).filter { ($0["path"] as? String ?? "").hasSuffix("gettoken") }
        #expect(tokens.count == 2, "one token per application, kept for the next message: \(tokens)")
        // The channel test reaches one member through each application, with the token already held.
        let wecomTest = try d.ctl("channel", "test", "wecom-app", "--to", "wangwu")
        #expect(wecomTest.status == 0 && wecomTest.stdout.contains("wecom-app: sent"), "\(wecomTest)")
        let dingTest = try d.ctl("channel", "test", "dingtalk-app", "--to", "13900000002")
        #expect(dingTest.status == 0 && dingTest.stdout.contains("dingtalk-app: sent"), "\(dingTest)")

        // WeCom's token expires and DingTalk asks to slow down: fetched again once; backed off, then sent.
        try control(apps.port, "{\"expire\": \"wecom\", \"rate_limit\": \"dingtalk\"}")
        let before = lines(appLog).count
        let moved = try d.ctl("session", "reschedule", String(session), "--to", notices.day(4))
        #expect(moved.status == 0, "\(moved)")
        try notices.waitUntil("the WeCom updates sent and DingTalk's refused once") {
            let updates = try expertRows("update")
            return updates.filter { $0["channel"] as? String == "wecom-app" && $0["status"] as? String == "sent" }
                .count == 2
                && updates.contains { $0["channel"] as? String == "dingtalk-app" && $0["attempts"] as? Int == 1 }
        }
        let after = Array(lines(appLog).dropFirst(before))
        let refused = after.filter { $0["errcode"] as? Int == 42001 }
        let fetchedAgain = after.filter {
            $0["app"] as? String == "wecom" && ($0["path"] as? String ?? "").hasSuffix("gettoken")
        }
        #expect(refused.count == 1 && fetchedAgain.count == 1, "fetched again once: \(after)")
        let dingUpdate = try #require(try expertRows("update").first { $0["channel"] as? String == "dingtalk-app" })
        #expect(dingUpdate["status"] as? String == "failed", "backed off, not dead: \(dingUpdate)")
        #expect((dingUpdate["lastError"] as? String ?? "").contains("90018"), "\(dingUpdate)")
        try d.setClock(to: d.now.addingTimeInterval(120))
        try notices.waitUntil("DingTalk's update sent after the backoff") {
            try expertRows("update").allSatisfy { $0["status"] as? String == "sent" }
        }

        // A member WeCom does not know: dead, with the command that corrects the id.
        #expect(try d.ctl("expert", "update", String(panel[1]), "--wecom", "nobody").status == 0)
        #expect(try d.ctl("session", "reschedule", String(session), "--to", notices.day(5)).status == 0)
        try notices.waitUntil("the unknown member's update refused") {
            try expertRows("update").contains { $0["status"] as? String == "dead" }
        }
        let dead = try #require(try expertRows("update").first { $0["status"] as? String == "dead" })
        // WeCom refused the id, so the next personal channel (DingTalk, by the mobile) was tried once, not WeCom
        // again; it knows no such member either. Each refusal says what to correct.
        let deadId = try #require(dead["id"] as? Int)
        let shown = try #require(try d.json("outbox", "show", String(deadId)) as? [String: Any])
        let tries = try #require(shown["attempts"] as? [[String: Any]])
        #expect(tries.compactMap { $0["channel"] as? String } == ["wecom-app", "dingtalk-app"], "\(tries)")
        let wecomWhy = tries.first?["detail"] as? String ?? ""
        #expect(
            wecomWhy.contains("81013") && wecomWhy.contains("mediationctl expert update \(panel[1]) --wecom USERID"),
            "\(wecomWhy)")
        let why = dead["lastError"] as? String ?? ""
        #expect(why.contains("60121") && why.contains("--dingtalk MOBILE"), "\(why)")
        #expect(why.contains("'mediationctl outbox retry \(deadId)'"), "\(why)")

        // The group robot had one line per change and never a page, a feed or a party.
        let group = lines(robotLog)
        #expect(!group.isEmpty, "the group heard of the changes")
        for line in group {
            let body = line["body"] as? String ?? ""
            for forbidden in ["/p/", "mediation.example.gov.cn", "/feeds/", "李强", "lq@example.org"] {
                #expect(!body.contains(forbidden), "'\(forbidden)' reached the group: \(body)")
            }
        }
    }
}
