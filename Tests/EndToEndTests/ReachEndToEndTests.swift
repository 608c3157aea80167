import Foundation
import Testing

/// Who was not reached (issue 17, item 4): under the running configuration, a person no personal channel reaches
/// is said when they are added, in the booking's answer, on the dashboard, the case file and the session page, and
/// in `status`; a party's `--channel sms|mail|none` is kept across a restart, and `none` queues nothing for them.
@Suite(.serialized) struct ReachEndToEndTests {
    func parties(_ d: DaemonUnderTest, _ number: String) throws -> [[String: Any]] {
        let shown = try #require(try d.json("dispute", "show", number) as? [String: Any])
        return try #require(shown["parties"] as? [[String: Any]])
    }

    @Test func whoCannotBeToldIsSaidWhereStaffLook() throws {
        // The embedded default: mail (the maildir spool) is the only personal channel.
        let (d, browser, number) = try ConsoleBookingEndToEndTests.prepared()

        // A mobile without a gateway: added, with a warning that says why and what to do.
        let zhang = try d.ctl("party", "add", number, "--name", "张伟", "--side", "applicant", "--mobile", "13700000001")
        #expect(zhang.status == 0, "\(zhang)")
        #expect(zhang.stderr.contains("warning: 张伟 can be reached only by SMS, and this daemon has no SMS gateway"))
        // An email: reached, no warning.
        let li = try d.ctl(
            "party", "add", number, "--name", "李强", "--side", "respondent", "--email", "li.qiang@example.org")
        #expect(li.status == 0 && !li.stderr.contains("warning"), "\(li)")
        // Told by staff: added, said, and nothing will be queued for them.
        let wang = try d.ctl(
            "party", "add", number, "--name", "王芳", "--side", "other", "--email", "wang@example.org", "--channel",
            "不通知")
        #expect(wang.status == 0 && wang.stderr.contains("王芳 chose not to be told by the system"), "\(wang)")
        // A channel nobody can read: refused, nothing written; in Chinese for a Chinese reader.
        let fax = try runProgram(
            Repo.ctl,
            ["--socket", d.socket, "party", "add", number, "--name", "赵六", "--side", "other", "--channel", "传真"],
            environment: ["LANG": "zh_CN.UTF-8", "PATH": "/usr/bin:/bin"])
        #expect(fax.status == 2 && fax.stderr.contains("通知方式“传真”无法识别，请选择 短信、邮件 或 不通知"), "\(fax)")
        #expect(try parties(d, number).count == 3)
        let zhSaid = try runProgram(
            Repo.ctl,
            [
                "--socket", d.socket, "party", "add", number, "--name", "孙七", "--side", "other", "--mobile",
                "13700000007",
            ], environment: ["LANG": "zh_CN.UTF-8", "PATH": "/usr/bin:/bin"])
        #expect(zhSaid.status == 0 && zhSaid.stderr.contains("孙七 只能用短信通知，但本系统没有配置短信网关"), "\(zhSaid)")
        #expect(try d.ctl("party", "remove", number, "孙七").status == 0)

        // The booking's answer lists who cannot be told, and only them among the parties.
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        let unreached = try #require(booked["unreached"] as? [[String: Any]], "\(booked)")
        let unreachedParties = unreached.filter { $0["kind"] as? String == "party" }.compactMap {
            $0["name"] as? String
        }
        #expect(Set(unreachedParties) == ["张伟", "王芳"], "\(unreached)")
        #expect(unreached.allSatisfy { ($0["why"] as? String)?.isEmpty == false })
        // 王芳 (none) gets no message; 李强 (mail) gets hers.
        let outbox = try #require(try d.json("outbox", "list", "--session", String(id)) as? [String: Any])
        let messages = try #require(outbox["messages"] as? [[String: Any]], "\(outbox)")
        let partyIds = Dictionary(
            uniqueKeysWithValues: try parties(d, number).compactMap { p in
                (p["name"] as? String).flatMap { n in (p["id"] as? Int).map { (n, $0) } }
            })
        let toParties = Set(
            messages.filter { $0["recipientKind"] as? String == "party" && $0["kind"] as? String == "notice" }
                .compactMap { $0["recipientId"] as? Int })
        #expect(toParties.contains(try #require(partyIds["李强"])), "\(messages)")
        #expect(!toParties.contains(try #require(partyIds["王芳"])), "\(messages)")

        // `status`, the dashboard, the session page and the case file say the same.
        let status = try d.ctl("status")
        #expect(status.stdout.contains("not reached:") && status.stdout.contains("party 张伟"), "\(status)")
        #expect(status.stdout.contains("party 王芳") && !status.stdout.contains("party 李强"), "\(status)")
        let board = try browser.get("/")
        #expect(board.body.contains("id=\"not-reached\"") && board.body.contains("当事人：张伟 只能用短信通知"), "\(board)")
        #expect(board.body.contains("只能用短信通知"), "\(board)")
        let page = try browser.get("/sessions/\(id)")
        #expect(page.body.contains("以下人员无法单独通知") && page.body.contains("<li>当事人：王芳"), "\(page)")
        // The page a console booking lands on says it at once.
        let landed = try browser.get("/disputes/\(number)?booked=\(id)")
        #expect(landed.body.contains("id=\"booked\"") && landed.body.contains("<li>当事人：王芳 选择不接收系统通知"), "\(landed)")
        let file = try browser.get("/disputes/\(number)")
        #expect(file.body.contains("不通知（由工作人员电话告知）") && file.body.contains("选择不接收系统通知"), "\(file)")

        // An email for 张伟: reached from then on, and no longer listed.
        let fixed = try d.ctl("party", "update", number, "张伟", "--email", "zhang.wei@example.org")
        #expect(fixed.status == 0 && !fixed.stderr.contains("warning"), "\(fixed)")
        let after = try d.ctl("status")
        #expect(!after.stdout.contains("party 张伟") && after.stdout.contains("party 王芳"), "\(after)")

        // Kept across a restart.
        #expect(d.stop() == 0)
        try d.start()
        let wangAfter = try #require(try parties(d, number).first { $0["name"] as? String == "王芳" })
        #expect(wangAfter["channel"] as? String == "none", "\(wangAfter)")
        let again = try #require(try d.json("session", "show", String(id)) as? [String: Any])
        let stillUnreached = (again["unreached"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(stillUnreached.contains("王芳") && !stillUnreached.contains("张伟"), "\(again)")
        #expect(d.stop() == 0)
    }

    /// With an SMS gateway configured as a personal webhook, a party with only a mobile is reached: no warning.
    @Test func anSMSGatewayReachesAMobile() throws {
        let d = try DaemonUnderTest(
            extraYAML: """
                webhook:
                  url: http://127.0.0.1:9/sms
                  secret: hook-secret
                  personal: true
                """)
        try d.start()
        try addSampleOffices(d)
        #expect(try d.ctl("dispute", "open", "--office", "jinshan", "--title", "噪音", "--category", "noise").status == 0)
        let added = try d.ctl("party", "add", "1", "--name", "张伟", "--side", "applicant", "--mobile", "13700000001")
        #expect(added.status == 0 && !added.stderr.contains("warning"), "\(added)")
        // SMS chosen but no mobile: said, with what to add.
        let noMobile = try d.ctl(
            "party", "add", "1", "--name", "李强", "--side", "respondent", "--email", "li@example.org", "--channel", "sms"
        )
        #expect(noMobile.status == 0 && noMobile.stderr.contains("李强 chose SMS but has no mobile"), "\(noMobile)")
        #expect(d.stop() == 0)
    }
}
