import Foundation
import Testing

/// 纠纷登记 in the console (issue 16, item 5), through the real daemon over HTTP: a clerk registers a dispute with its
/// elements, risk and parties; a refused form keeps what was typed, says beside each field what is wrong in the page's
/// language, and writes nothing; a viewer, another office and a form without its token change nothing.
@Suite(.serialized) struct ConsoleIntakeEndToEndTests {
    typealias Browser = ConsoleHTTPEndToEndTests.Browser

    func disputes(_ d: DaemonUnderTest) throws -> [[String: Any]] {
        let list = try #require(try d.json("dispute", "list") as? [String: Any])
        return try #require(list["disputes"] as? [[String: Any]])
    }

    /// The form's fields, as a browser sends them.
    func fields(_ csrf: String, _ changes: [String: String]) -> [(String, String)] {
        var f: [String: String] = [
            "csrf": csrf, "office": "jinshan", "category": "neighbour", "risk": "high",
            "riskReason": "双方曾发生肢体冲突", "title": "楼上漏水纠纷", "occurredAt": "2026-11-28 20:30",
            "location": "金山区卫零路 12 弄 3 号", "cause": "楼上卫生间漏水，多次协商未果", "nature": "相邻关系纠纷",
            "scale": "2", "involved": "两户居民", "development": "已报警一次，民警现场调解未果",
            "party-1-name": "张伟", "party-1-side": "applicant", "party-1-mobile": "13700000001",
            "party-1-hours": "周六 09:00-12:00", "party-2-name": "李强", "party-2-side": "respondent",
            "party-2-mobile": "13700000002", "party-2-hours": "", "party-3-side": "other",
        ]
        for (k, v) in changes { f[k] = v }
        return f.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    @Test func aClerkRegistersADisputeAndARefusedFormKeepsWhatWasTypedAndWritesNothing() throws {
        let (d, base, oneTime) = try ConsoleHTTPEndToEndTests.console()
        let browser = try ConsoleWeekEndToEndTests.signedIn(d, base, oneTime)
        let before = try disputes(d).count

        // The list offers the form; the form offers only the clerk's office.
        let list = try browser.get("/disputes")
        #expect(list.body.contains("href=\"/disputes/new\"") && list.body.contains("登记纠纷"), "\(list)")
        let form = try browser.get("/disputes/new")
        #expect(form.status == 200 && form.headers["cache-control"] == "no-store", "\(form)")
        #expect(form.body.contains("金山警务室") && !form.body.contains("新华警务室"), "\(form)")
        #expect(form.body.contains("诱因") && form.body.contains("事态发展") && form.body.contains("申请人"))
        let csrf = try #require(form.hidden("csrf"))

        // A tired Friday form: no title, a mobile one digit short, hours nobody can read, a time that is no time,
        // people involved written in words. Each problem beside its field, in Chinese; what was typed kept.
        let refused = try browser.post(
            "/disputes/new",
            fields(
                csrf,
                [
                    "title": "", "party-1-mobile": "1370000001", "party-2-hours": "周八 九点到十点",
                    "occurredAt": "上周五傍晚", "scale": "两户",
                ]))
        #expect(refused.status == 422, "\(refused)")
        for (field, words) in [
            ("title", "请填写纠纷名称"), ("party-1-mobile", "手机号“1370000001”不正确"),
            ("party-2-hours", "时间段“周八 九点到十点”无法识别"), ("occurredAt", "发生时间“上周五傍晚”无法识别"),
            ("scale", "涉及人数请填写数字"),
        ] {
            let shown = refused.body.firstMatch(of: try Regex("id=\"\(field)-error\">([^<]*)<")).map {
                String($0.output[1].substring ?? "")
            }
            #expect(shown?.contains(words) == true, "\(field): \(shown ?? "nothing") in \(refused.body)")
        }
        #expect(refused.body.contains("value=\"1370000001\"") && refused.body.contains("楼上卫生间漏水，多次协商未果"))
        #expect(refused.body.contains("value=\"周八 九点到十点\"") && refused.body.contains("value=\"两户\""))
        #expect(!refused.body.contains("is not") && !refused.body.contains("unknown"), "no English on the page")
        #expect(try disputes(d).count == before, "a refused form writes nothing")

        // The same form in English says it in English.
        browser.language = "en"
        let english = try browser.post("/disputes/new", fields(csrf, ["title": "", "party-1-mobile": "1370000001"]))
        #expect(english.status == 422 && english.body.contains("title is empty"), "\(english)")
        #expect(english.body.contains("is not a phone number") && !english.body.contains("请填写"), "\(english)")
        browser.language = nil

        // One party is not a dispute.
        let alone = try browser.post(
            "/disputes/new", fields(csrf, ["party-2-name": "", "party-2-mobile": "", "party-2-hours": ""]))
        #expect(alone.status == 422 && alone.body.contains("请至少填写两位当事人"), "\(alone)")

        // Another office's id, typed into the form by hand, is refused as no office of the clerk's.
        let other = try browser.post("/disputes/new", fields(csrf, ["office": "xinhua"]))
        #expect(other.status == 422 && other.body.contains("请选择您的调解室"), "\(other)")
        // Without the form's token: 403, nothing written.
        var forged = fields(csrf, [:])
        forged.removeAll { $0.0 == "csrf" }
        #expect(try browser.post("/disputes/new", forged).status == 403)
        #expect(try disputes(d).count == before)

        // The form as it should be: registered, then the case file.
        // A channel nobody can read is said beside its field.
        #expect(form.body.contains("name=\"party-1-channel\"") && form.body.contains("name=\"party-1-email\""))
        let badChannel = try browser.post("/disputes/new", fields(csrf, ["party-2-channel": "fax"]))
        #expect(badChannel.status == 422, "\(badChannel)")
        #expect(badChannel.body.contains("id=\"party-2-channel-error\">通知方式“fax”无法识别"), "\(badChannel)")
        #expect(try disputes(d).count == before)

        // 张伟 with a mail address; 李强 told by staff.
        let done = try browser.post(
            "/disputes/new",
            fields(
                csrf,
                [
                    "party-1-email": "zhang.wei@example.org", "party-2-channel": "none",
                    // Typed with a Chinese input method in full width: read as the digits they are.
                    "party-1-mobile": "１３７０００００００１", "scale": "２",
                ]))
        #expect(done.status == 303, "\(done)")
        let location = try #require(done.location)
        #expect(location.hasPrefix("/disputes/JS-") && location.hasSuffix("?registered=1"), "\(location)")
        let number = String(location.dropFirst("/disputes/".count).prefix { $0 != "?" })
        let file = try browser.get(location)
        #expect(file.status == 200 && file.body.contains("纠纷已登记") && file.body.contains("楼上漏水纠纷"), "\(file)")
        #expect(file.body.contains("楼上卫生间漏水，多次协商未果") && file.body.contains("11月28日"), "\(file)")
        #expect(file.body.contains("137****0001") && !file.body.contains("13700000001"), "mobiles masked: \(file)")

        // Through the API: the same dispute, its elements, risk with its reason, parties with sides and hours.
        let shown = try #require(try d.json("dispute", "show", number) as? [String: Any])
        let dispute = try #require(shown["dispute"] as? [String: Any])
        #expect(dispute["risk"] as? String == "high" && dispute["category"] as? String == "neighbour", "\(shown)")
        let elements = try #require(dispute["elements"] as? [String: Any])
        #expect(elements["occurredAt"] as? String == "2026-11-28T20:30:00+08:00", "\(elements)")
        #expect(elements["scale"] as? Int == 2)
        let parties = try #require(shown["parties"] as? [[String: Any]])
        #expect(parties.map { $0["side"] as? String } == ["applicant", "respondent"], "\(parties)")
        #expect(parties.first?["hoursText"] as? String == "sat 09:00-12:00", "\(parties)")
        #expect(parties.first?["email"] as? String == "zhang.wei@example.org" && parties.first?["unreachable"] == nil)
        #expect(parties.last?["channel"] as? String == "none" && parties.last?["unreachable"] != nil, "\(parties)")
        #expect(file.body.contains("不通知（由工作人员电话告知）") && file.body.contains("李强 选择不接收系统通知"), "\(file)")
        #expect("\(shown)".contains("双方曾发生肢体冲突"), "the risk reason is in the history: \(shown)")
        // Audited under the clerk's name, as the console's.
        let audit = try d.ctl("audit", "list", "--limit", "50").stdout
        #expect(audit.contains("dispute.open") && audit.contains("li.na"), "\(audit)")

        // The daemon restarted: the dispute is still there.
        d.stop()
        try d.start()
        #expect(try disputes(d).contains { $0["number"] as? String == number })
    }

    @Test func aConflictOfInterestIsEnteredWithTheDisputeOrNothingIsWritten() throws {
        let (d, base, oneTime) = try ConsoleHTTPEndToEndTests.console()
        for (id, name) in [("hongqiao", "虹桥警务室"), ("binjiang", "滨江警务室")] {
            #expect(try d.ctl("office", "add", id, "--name", name).status == 0)
        }
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        let browser = try ConsoleWeekEndToEndTests.signedIn(d, base, oneTime)
        let form = try browser.get("/disputes/new")
        #expect(form.body.contains("id=\"intake-conflict\"") && form.body.contains("利害关系"), "\(form)")
        let csrf = try #require(form.hidden("csrf"))
        let before = try disputes(d).count

        // An expert nobody has: said beside the field, in Chinese, and no dispute is written.
        let unknown = try browser.post(
            "/disputes/new", fields(csrf, ["conflict-expert": "不存在的专家", "conflict-with": "李强"]))
        #expect(unknown.status == 422 && unknown.body.contains("id=\"conflict-expert-error\""), "\(unknown)")
        #expect(unknown.body.contains("找不到这位专家") && unknown.body.contains("value=\"不存在的专家\""), "\(unknown)")
        #expect(try disputes(d).count == before, "nothing written")
        // Half a conflict (no one it is with): said beside that field.
        let half = try browser.post("/disputes/new", fields(csrf, ["conflict-expert": "陈志远"]))
        #expect(half.status == 422 && half.body.contains("id=\"conflict-with-error\""), "\(half)")
        #expect(try disputes(d).count == before)

        // A name one slip away from a party (李墙 for 李强), and no party's organisation: refused beside the field with
        // the party it may mean, not kept as an organisation that concerns no one.
        let slip = try browser.post(
            "/disputes/new", fields(csrf, ["conflict-expert": "陈志远", "conflict-with": "李墙"]))
        #expect(slip.status == 422 && slip.body.contains("id=\"conflict-with-error\""), "\(slip)")
        #expect(slip.body.contains("是不是“李强”") && slip.body.contains("value=\"李墙\""), "\(slip)")
        #expect(try disputes(d).count == before, "nothing written")

        // With a party typed above: recorded with the dispute, and the finder never proposes that expert for it.
        let done = try browser.post(
            "/disputes/new",
            fields(csrf, ["conflict-expert": "陈志远", "conflict-with": "李强", "conflict-reason": "曾为李强代理诉讼"]))
        #expect(done.status == 303, "\(done)")
        let number = String((done.location ?? "").dropFirst("/disputes/".count).prefix { $0 != "?" })
        let chen = try #require((try d.json("expert", "show", "陈志远") as? [String: Any])?["id"] as? Int)
        let parties = try #require(
            (try d.json("dispute", "show", number) as? [String: Any])?["parties"] as? [[String: Any]])
        let li = try #require(parties.first { $0["name"] as? String == "李强" }?["id"] as? Int)
        let conflicts = try d.ctl("conflict", "list", "--dispute", number)
        let row = conflicts.stdout.split(separator: "\n").dropFirst().first.map {
            $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
        #expect(row?.dropFirst().prefix(3) == ["陈志远", "(#\(chen))", "\(li)"], "\(conflicts)")
        #expect(conflicts.stdout.contains("曾为李强代理诉讼"), "\(conflicts)")
        let file = try browser.get("/disputes/\(number)")
        #expect(file.body.contains("class=\"row conflict\">陈志远"), "\(file)")

        // The same form sent twice (a double click on 登记, a reload): one dispute, the second answer its page.
        let again = try browser.get("/disputes/new")
        let key = try #require(again.hidden("intake-key"))
        let twice = fields(csrf, ["title": "双击登记", "intake-key": key])
        let first = try browser.post("/disputes/new", twice)
        let count = try disputes(d).count
        let second = try browser.post("/disputes/new", twice)
        #expect(first.status == 303 && second.status == 303 && second.location == first.location, "\(second)")
        #expect(try disputes(d).count == count, "registered once")
        #expect(d.stop() == 0)
    }

    @Test func aViewerMayReadButNotRegister() throws {
        let (d, base, _) = try ConsoleHTTPEndToEndTests.console()
        let browser = try ConsoleWeekEndToEndTests.account(
            d, base: base, name: "zhao.min", role: "viewer", offices: ["jinshan"])
        let before = try disputes(d).count

        let list = try browser.get("/disputes")
        #expect(list.status == 200 && !list.body.contains("/disputes/new"), "no form offered: \(list)")
        let form = try browser.get("/disputes/new")
        #expect(form.status == 403 && form.body.contains("您的角色无权"), "\(form)")
        let dashboard = try browser.get("/")
        let sessionToken = try #require(dashboard.hidden("csrf"))
        let posted = try browser.post(
            "/disputes/new",
            [
                ("csrf", sessionToken), ("office", "jinshan"), ("category", "noise"), ("title", "噪音"),
                ("party-1-name", "甲"), ("party-2-name", "乙"),
            ])
        #expect(posted.status == 403, "\(posted)")
        #expect(try disputes(d).count == before)

        // Without a session the form is the login page, and a post writes nothing.
        let stranger = Browser(base: base, folder: d.dir)
        let away = try stranger.post("/disputes/new", [("title", "x")])
        #expect(away.status == 303 && away.location == "/login", "\(away)")
        #expect(try disputes(d).count == before)
    }
}
