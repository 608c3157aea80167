import Foundation
import Testing

/// SMS to parties and experts (issue 17, item 1) through Alibaba Cloud SMS and Tencent Cloud SMS, against the local
/// stand-in (Tests/peers/sms_gateway.py), which checks every request's signature with the providers' official
/// Python SDKs and answers with their documented bodies: approved templates filled with the dispute's number, the
/// time and the person's own page; errors mapped (a bad number dead with the fix, throttling backed off, quota in
/// `status`); delivery receipts in `outbox show`, kept across a restart.
@Suite(.serialized) struct SMSEndToEndTests {
    let notices = NoticeEndToEndTests()

    struct Gateway {
        let peer: Peer
        let log: URL

        init() throws {
            log = FileManager.default.temporaryDirectory.appendingPathComponent("sms-\(UUID().uuidString).jsonl")
            peer = try Peer(
                "sms_gateway.py", [log.path],
                log: FileManager.default.temporaryDirectory.appendingPathComponent("sms-\(UUID().uuidString).err"))
        }

        /// Every request the stand-in answered, one JSON object each.
        var requests: [[String: Any]] {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        var sends: [[String: Any]] { requests.filter { $0["action"] as? String == "SendSms" } }

        func control(_ body: String) throws {
            let r = try runProgram(
                "/usr/bin/curl",
                [
                    "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-d", body,
                    "http://127.0.0.1:\(peer.port)/_control",
                ])
            guard r.stdout == "200" else { throw HarnessError("the stand-in's /_control answered \(r)") }
        }
    }

    /// The `sms:` section for a provider at the stand-in; `secret` wrong to see a refusal.
    func yaml(_ provider: String, port: Int, secret: String? = nil) -> String {
        let common = """
            web:
              listen: 127.0.0.1:0
              public_url: https://mediation.example.gov.cn
            notices:
              quiet_hours: none
              retry:
                base_seconds: 5
            """
        switch provider {
        case "aliyun":
            return common + """

                sms:
                  provider: aliyun
                  endpoint: http://127.0.0.1:\(port)
                  key_id: LTAI-test-key
                  key_secret: \(secret ?? "aliyun-test-secret")
                  sign_name: 金山调解
                  templates:
                    notice: SMS_100001
                    update: SMS_100002
                    cancel: SMS_100003
                    reminder: SMS_100004
                """
        default:
            return common + """

                sms:
                  provider: tencent
                  endpoint: http://127.0.0.1:\(port)
                  key_id: AKID-test-id
                  key_secret: \(secret ?? "tencent-test-secret")
                  app_id: "1400000001"
                  sign_name: 金山调解
                  templates:
                    notice: "2001"
                    update: "2002"
                    cancel: "2003"
                    reminder: "2004"
                """
        }
    }

    /// An office, the sample experts (by mail) and a dispute with `parties` (name and mobile), SMS only.
    func prepare(_ d: DaemonUnderTest, parties: [(String, String)]) throws -> String {
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        let opened = try #require(
            try d.json("dispute", "open", "--office", "jinshan", "--title", "楼道堆物", "--category", "neighbour")
                as? [String: Any])
        let number = try #require((opened["dispute"] as? [String: Any])?["number"] as? String)
        for (i, (name, mobile)) in parties.enumerated() {
            let side = i == 0 ? "applicant" : i == 1 ? "respondent" : "other"
            let added = try d.ctl(
                "party", "add", number, "--name", name, "--side", side, "--mobile", mobile, "--channel", "sms")
            #expect(added.status == 0 && !added.stderr.contains("warning"), "an SMS gateway reaches them: \(added)")
        }
        return number
    }

    func partyMessages(_ d: DaemonUnderTest, session: Int, kind: String = "notice") throws -> [[String: Any]] {
        try notices.outbox(d, "--session", String(session)).filter {
            $0["recipientKind"] as? String == "party" && $0["kind"] as? String == kind
        }
    }

    /// `12月7日 14:00`: the session's start in Shanghai, as the template's time.
    func shortTime(_ start: Date) -> String {
        let f = DateFormatter()
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "M'月'd'日' HH:mm"
        return f.string(from: start)
    }

    @Test(arguments: ["aliyun", "tencent"])
    func aBookingWithThreePartiesSendsThreeTemplateMessagesAndTheirReceipts(provider: String) throws {
        let gateway = try Gateway()
        defer { gateway.peer.stop() }
        let d = try DaemonUnderTest(extraYAML: yaml(provider, port: gateway.peer.port))
        try d.start()
        defer { d.stop() }
        let number = try prepare(
            d, parties: [("张伟", "13800000010"), ("李强", "13800000020"), ("王芳", "+86 138 0000 0030")])
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        #expect((booked["unreached"] as? [[String: Any]] ?? []).isEmpty, "everyone is reached: \(booked)")
        let startText = try #require(booked["start"] as? String)
        let start = try #require(ISO8601DateFormatter().date(from: startText))

        try notices.waitUntil("the three parties' notices sent") {
            try partyMessages(d, session: id).filter { $0["status"] as? String == "sent" }.count == 3
        }
        let rows = try partyMessages(d, session: id)
        #expect(rows.allSatisfy { $0["channel"] as? String == "sms" }, "\(rows)")

        // Three template messages to the parties (the experts without mail get theirs too), each verified by the
        // SDK's signature, with the right parameters.
        let sends = gateway.sends.filter { ($0["phone"] as? String ?? "").contains("1380000") }
        #expect(sends.count == 3, "\(sends)")
        #expect(sends.allSatisfy { $0["verdict"] as? String == "ok" && $0["provider"] as? String == provider })
        let links = try #require(try d.json("session", "links", String(id)) as? [String: Any])
        let pages = Set(
            try #require(links["parties"] as? [[String: Any]]).compactMap { $0["page"] as? String })
        #expect(pages.count == 3 && pages.allSatisfy { $0.hasPrefix("https://mediation.example.gov.cn/p/") })
        var seenLinks = Set<String>()
        for send in sends {
            #expect(send["sign_name"] as? String == "金山调解", "\(send)")
            #expect(send["template"] as? String == (provider == "aliyun" ? "SMS_100001" : "2001"), "\(send)")
            let values: [String]
            if provider == "aliyun" {
                let named = try #require(send["params"] as? [String: String], "\(send)")
                #expect(Set(named.keys) == ["number", "time", "link"], "\(named)")
                values = [named["number"] ?? "", named["time"] ?? "", named["link"] ?? ""]
            } else {
                values = try #require(send["params"] as? [String], "\(send)")
            }
            #expect(values.count == 3)
            #expect(values[0] == number && values[1] == shortTime(start), "\(values)")
            #expect(pages.contains(values[2]), "the link is the party's own page: \(values[2])")
            seenLinks.insert(values[2])
            let phone = try #require(send["phone"] as? String)
            #expect(
                provider == "aliyun" ? phone.hasPrefix("138") : phone.hasPrefix("+86138"),
                "the number as the provider takes it: \(phone)")
        }
        #expect(seenLinks == pages, "each party gets their own page")
        #expect(Set(sends.compactMap { $0["ref"] as? String }).count == 3, "one reference per message")

        // The channel test sends the notice's template with sample values; a test to a mail address is refused.
        let tested = try d.ctl("channel", "test", "sms", "--to", "13800000099")
        #expect(tested.status == 0 && tested.stdout.contains("sms: sent: sms: \(provider) took it as"), "\(tested)")
        let testSend = try #require(gateway.sends.last)
        #expect(testSend["verdict"] as? String == "ok" && (testSend["phone"] as? String ?? "").hasSuffix("13800000099"))
        let notMobile = try d.ctl("channel", "test", "sms", "--to", "duty@example.org")
        #expect(notMobile.status != 0 && notMobile.stderr.contains("sms needs a mobile"), "\(notMobile)")
        let audit = try d.ctl("audit", "list", "--limit", "5").stdout
        #expect(
            audit.contains("138****0099") && !audit.contains("13800000099"), "no full mobile in the audit: \(audit)")

        // The receipt: asked for when the message is shown.
        let message = try #require(rows.first?["id"] as? Int)
        let shown = try d.ctl("outbox", "show", String(message))
        #expect(
            shown.status == 0 && shown.stdout.contains("receipt:") && shown.stdout.contains("DELIVERED"), "\(shown)")
        #expect(shown.stdout.contains("138****00"), "the number is masked: \(shown)")
        #expect(!shown.stdout.contains("13800000010") && !shown.stdout.contains("13800000020"), "\(shown)")
        #expect(
            gateway.requests.contains {
                $0["action"] as? String == (provider == "aliyun" ? "QuerySendDetails" : "PullSmsSendStatus")
                    && $0["verdict"] as? String == "ok"
            })
    }

    @Test func refusalsAreMappedToWhatStaffDoAndReceiptsSurviveARestart() throws {
        let gateway = try Gateway()
        defer { gateway.peer.stop() }
        let d = try DaemonUnderTest(extraYAML: yaml("aliyun", port: gateway.peer.port), movableClock: true)
        try d.start()
        defer { d.stop() }
        // 0001: not a number the gateway takes; 0002: throttled once; 0003: not delivered to the phone.
        let number = try prepare(
            d, parties: [("张伟", "13800000001"), ("李强", "13800000002"), ("王芳", "13800000003")])
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        let partyIds = Dictionary(
            uniqueKeysWithValues: try #require(
                (try d.json("dispute", "show", number) as? [String: Any])?["parties"] as? [[String: Any]]
            ).compactMap { p in (p["name"] as? String).flatMap { n in (p["id"] as? Int).map { (n, $0) } } })
        func message(_ name: String) throws -> [String: Any] {
            let pid = try #require(partyIds[name])
            return try #require(try partyMessages(d, session: id).first { $0["recipientId"] as? Int == pid })
        }
        try notices.waitUntil("each party's first attempt") {
            try partyMessages(d, session: id).allSatisfy { ($0["attempts"] as? Int ?? 0) >= 1 }
        }

        // A bad number: dead, with the command that corrects it, which runs.
        let bad = try message("张伟")
        #expect(bad["status"] as? String == "dead", "\(bad)")
        let why = try #require(bad["lastError"] as? String)
        let badId = try #require(bad["id"] as? Int)
        let fix = "mediationctl party update \(number) \(try #require(partyIds["张伟"])) --mobile NUMBER"
        #expect(why.contains("isv.MOBILE_NUMBER_ILLEGAL") && why.contains("138****0001"), "\(why)")
        #expect(why.contains(fix) && why.contains("'mediationctl outbox retry \(badId)'"), "\(why)")
        let corrected = try d.ctl(
            "party", "update", number, String(try #require(partyIds["张伟"])), "--mobile", "13800000011")
        #expect(corrected.status == 0, "\(corrected)")
        #expect(try d.ctl("outbox", "retry", String(badId)).status == 0)
        try notices.waitUntil("the corrected number sent") { try message("张伟")["status"] as? String == "sent" }

        // Throttled: tried again after a backoff, then sent.
        let throttled = try message("李强")
        let throttledId = try #require(throttled["id"] as? Int)
        let firstTry = try #require(try d.json("outbox", "show", String(throttledId)) as? [String: Any])
        let attempts = try #require(firstTry["attempts"] as? [[String: Any]])
        #expect(attempts.first?["result"] as? String == "transient", "\(attempts)")
        let firstDetail = attempts.first?["detail"] as? String
        #expect(firstDetail?.contains("isv.BUSINESS_LIMIT_CONTROL") == true, "\(attempts)")
        try d.setClock(to: d.now.addingTimeInterval(120))
        try notices.waitUntil("the throttled message sent after its backoff") {
            try message("李强")["status"] as? String == "sent"
        }

        // Not delivered to the phone: the receipt says so, and the console's dashboard lists it with what to do.
        let lost = try #require(try message("王芳")["id"] as? Int)
        let shownLost = try d.ctl("outbox", "show", String(lost))
        #expect(shownLost.stdout.contains("NOT delivered to the phone"), "\(shownLost)")
        var base: String?
        for _ in 0..<500 {
            if let m = d.log().firstMatch(of: #/http://127\.0\.0\.1:([0-9]+)/#), m.1 != "0" {
                base = "http://127.0.0.1:\(m.1)"
                break
            }
            usleep(20_000)
        }
        let address = try #require(base)
        let added = try d.ctl("user", "add", "li.na", "--role", "staff", "--office", "jinshan")
        let oneTime = try #require(UserEndToEndTests.oneTimePassword(added.stdout), "\(added)")
        let browser = try ConsoleWeekEndToEndTests.signedIn(d, address, oneTime)
        let board = try browser.get("/")
        #expect(board.body.contains("class=\"row warn lost-sms\"") && board.body.contains("短信未送达本人手机"), "\(board)")
        #expect(board.body.contains("用户关机") || board.body.contains("IC:0001"), "the operator's words: \(board)")

        // Quota used up: the messages wait and `status` says so; topped up, they go.
        try gateway.control("{\"quota\": true}")
        let moved = try d.ctl("session", "cancel", String(id), "--reason", "当事人要求改期")
        #expect(moved.status == 0, "\(moved)")
        try notices.waitUntil("the cancellations refused for want of quota") {
            try partyMessages(d, session: id, kind: "cancel").contains { ($0["attempts"] as? Int ?? 0) >= 1 }
        }
        let status = try d.ctl("status")
        #expect(status.stdout.contains("SMS quota:") && status.stdout.contains("USED UP"), "\(status)")
        #expect(status.stdout.contains("top up the SMS package"), "\(status)")
        let quotaBoard = try browser.get("/")
        #expect(quotaBoard.body.contains("id=\"sms-quota\"") && quotaBoard.body.contains("短信额度已用完"), "\(quotaBoard)")
        let cancels = try partyMessages(d, session: id, kind: "cancel")
        #expect(cancels.allSatisfy { $0["status"] as? String != "dead" }, "they wait: \(cancels)")
        try gateway.control("{\"quota\": false}")
        try d.setClock(to: d.now.addingTimeInterval(600))
        try notices.waitUntil("the cancellations sent once topped up") {
            try partyMessages(d, session: id, kind: "cancel").allSatisfy { $0["status"] as? String == "sent" }
        }
        #expect(!(try d.ctl("status").stdout.contains("SMS quota:")))
        #expect(!(try browser.get("/").body.contains("id=\"sms-quota\"")))

        // Each message went once per acceptance: no duplicates by reference.
        let accepted = gateway.sends.filter { $0["code"] as? String == "OK" }.compactMap { $0["ref"] as? String }
        #expect(accepted.count == Set(accepted).count, "\(accepted)")

        // Receipts are kept across a restart.
        #expect(d.stop() == 0)
        try d.start()
        let again = try d.ctl("outbox", "show", String(lost))
        #expect(again.stdout.contains("NOT delivered to the phone"), "\(again)")
    }

    @Test func aWrongKeyIsRefusedByTheSignatureCheckAndSaysWhatToCheck() throws {
        let gateway = try Gateway()
        defer { gateway.peer.stop() }
        let d = try DaemonUnderTest(extraYAML: yaml("tencent", port: gateway.peer.port, secret: "not-the-secret"))
        try d.start()
        defer { d.stop() }
        let number = try prepare(d, parties: [("张伟", "13800000010")])
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        try notices.waitUntil("the notice refused") {
            try partyMessages(d, session: id).contains { $0["status"] as? String == "dead" }
        }
        let dead = try #require(try partyMessages(d, session: id).first)
        let why = dead["lastError"] as? String ?? ""
        #expect(why.contains("AuthFailure.SignatureFailure") && why.contains("check sms.key_id"), "\(why)")
        #expect(gateway.sends.allSatisfy { $0["verdict"] as? String != "ok" })
    }

    @Test func aGatewayWithoutItsKeysOrWebListenerIsRefusedAtStart() throws {
        for (extra, said) in [
            ("web:\n  listen: \"\"\nsms:\n  provider: aliyun", "sms.provider is aliyun but sms.key_id is not set"),
            ("web:\n  listen: 127.0.0.1:0\nsms:\n  provider: huawei", "sms.provider 'huawei' is unknown"),
            (
                yaml("aliyun", port: 9).replacingOccurrences(of: "    reminder: SMS_100004\n", with: "")
                    .replacingOccurrences(of: "    reminder: SMS_100004", with: ""),
                "sms.templates.reminder is not set"
            ),
            (
                yaml("aliyun", port: 9).replacingOccurrences(of: "  listen: 127.0.0.1:0", with: "  listen: off"),
                "sms.provider is set but web.listen is off"
            ),
            (
                yaml("aliyun", port: 9).replacingOccurrences(
                    of: "  public_url: https://mediation.example.gov.cn", with: ""),
                "sms.provider is set but web.public_url is not"
            ),
        ] {
            let d = try DaemonUnderTest(extraYAML: extra)
            let refused = try runProgram(Repo.daemon, ["--config", d.config])
            #expect(refused.status == 2 && refused.stderr.contains(said), "\(said): \(refused)")
        }
    }
}
