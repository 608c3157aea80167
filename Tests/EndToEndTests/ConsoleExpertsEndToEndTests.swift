import Foundation
import Testing

/// 专家库 in the console (issue 16, item 5), through the real daemon over HTTP: the experts of the clerk's offices with
/// their roles and hours in Chinese and mobiles masked, filters, and one expert's free week as a grid that follows
/// leave added through the CLI; an expert of another office is not there.
@Suite(.serialized) struct ConsoleExpertsEndToEndTests {
    func expertID(_ d: DaemonUnderTest, _ name: String) throws -> Int {
        let list = try #require(try d.json("expert", "list") as? [String: Any])
        let experts = try #require(list["experts"] as? [[String: Any]])
        return try #require(experts.first { $0["name"] as? String == name }?["id"] as? Int, "\(name) in \(experts)")
    }

    @Test func theExpertsOfTheClerksOfficesAndOneExpertsFreeWeek() throws {
        let (d, browser, _) = try ConsoleBookingEndToEndTests.prepared()

        let list = try browser.get("/experts")
        #expect(list.status == 200 && list.headers["cache-control"] == "no-store", "\(list)")
        // 陈志远 serves jinshan and xinhua; 林晓雯 only hongqiao, which is not the clerk's.
        #expect(list.body.contains("陈志远") && !list.body.contains("林晓雯"), "\(list)")
        #expect(list.body.contains("139****0001") && !list.body.contains("13900000001"), "mobiles masked")
        #expect(list.body.contains("周一 19:00-21:00；周三 19:00-21:00；周六 09:00-12:00"), "hours in Chinese")
        #expect(!list.body.contains(">lawyer<") && list.body.contains(">律师<"), "roles in Chinese")
        let lawyers = try browser.get("/experts?role=lawyer")
        #expect(lawyers.body.contains("陈志远") && !lawyers.body.contains("综治专干</td>"), "\(lawyers)")

        // One expert's week: his weekly hours as free half hours (2 h + 2 h + 3 h = 14 cells).
        let chen = try expertID(d, "陈志远")
        func freeCells(_ week: String) throws -> Int {
            let page = try browser.get("/experts/\(chen)?week=\(week)")
            #expect(page.status == 200, "\(page)")
            return page.body.components(separatedBy: "<td class=\"cell free\">").count - 1
        }
        #expect(try freeCells("2027-W10") == 14)
        // Leave on the Wednesday, through the CLI: the grid loses those four half hours and lists the leave.
        let leave = try d.ctl(
            "expert", "leave", "add", String(chen), "--from", "2027-03-10", "--to", "2027-03-10", "--reason", "出差")
        #expect(leave.status == 0, "\(leave)")
        #expect(try freeCells("2027-W10") == 10)
        let page = try browser.get("/experts/\(chen)?week=2027-W10")
        #expect(page.body.contains("3月10日 周三") && page.body.contains("出差"), "\(page)")
        #expect(try freeCells("2027-W11") == 14, "the week after is untouched")

        // Another office's expert is not there; a week that does not exist is said in Chinese.
        let lin = try expertID(d, "林晓雯")
        #expect(try browser.get("/experts/\(lin)").status == 404)
        #expect(try browser.get("/experts/99999").status == 404)
        let bad = try browser.get("/experts/\(chen)?week=2027-W99")
        #expect(bad.status == 400 && bad.body.contains("周次"), "\(bad)")
    }

    /// 管理: an admin reads the offices and the panel policies, in Chinese; a clerk may not.
    @Test func anAdminReadsTheOfficesAndThePoliciesAndAClerkMayNot() throws {
        let (d, browser, _) = try ConsoleBookingEndToEndTests.prepared()
        #expect(try browser.get("/admin/offices").status == 403)
        #expect(try browser.get("/admin/policies").status == 403)
        let admin = try ConsoleWeekEndToEndTests.account(d, base: browser.base, name: "wang.fang", role: "admin")
        let offices = try admin.get("/admin/offices")
        #expect(offices.status == 200 && offices.body.contains("金山警务室") && offices.body.contains("新华警务室"))
        #expect(offices.body.contains("周一 09:00-12:00 14:00-18:00"), "hours in Chinese: \(offices)")
        #expect(offices.body.contains("mediationctl office --help"), "\(offices)")
        // The table's heading, not the booking form's label; an admin with no office of their own sees all of them.
        #expect(offices.body.contains("<th>每场时长（分钟）</th>") && !offices.body.contains("可不填"), "\(offices)")
        let users = try admin.get("/admin/users")
        #expect(users.body.contains("<td>wang.fang</td><td>管理员</td><td>全部调解室</td>"), "\(users)")
        let policies = try admin.get("/admin/policies")
        // The built-in policy by its Chinese name and description: no English word on the Chinese page.
        #expect(policies.status == 200 && policies.body.contains("<td>标准组成</td>"), "\(policies)")
        #expect(policies.body.contains("各一名") && !policies.body.contains("one lawyer"), "\(policies)")
        #expect(policies.body.contains("法制民警") || policies.body.contains("律师"), "roles in Chinese: \(policies)")
        #expect(!policies.body.contains(">lawyer<"), "\(policies)")
    }

    func expertCount(_ d: DaemonUnderTest) throws -> Int {
        let list = try #require(try d.json("expert", "list") as? [String: Any])
        return try #require(list["experts"] as? [[String: Any]]).count
    }

    @Test func aClerkRecordsAndRemovesLeaveWithTheProblemsBesideTheFields() throws {
        let (d, browser, _) = try ConsoleBookingEndToEndTests.prepared()
        let chen = try expertID(d, "陈志远")
        func cells() throws -> Int {
            try browser.get("/experts/\(chen)?week=2027-W10").body.components(separatedBy: "<td class=\"cell free\">")
                .count - 1
        }
        let page = try browser.get("/experts/\(chen)?week=2027-W10")
        let csrf = try #require(page.hidden("csrf"))
        #expect(page.body.contains("id=\"add-span\""), "\(page)")

        // A day nobody can read, and an end before the start: each said beside its field, in Chinese; nothing written.
        let unreadable = try browser.post(
            "/experts/\(chen)/spans", [("csrf", csrf), ("kind", "leave"), ("from", "下周三"), ("to", "2027-03-10")])
        #expect(unreadable.status == 422, "\(unreadable)")
        #expect(unreadable.body.contains("id=\"from-error\">时间“下周三”无法识别"), "\(unreadable)")
        #expect(unreadable.body.contains("value=\"下周三\""), "what was typed is kept")
        let reversed = try browser.post(
            "/experts/\(chen)/spans", [("csrf", csrf), ("kind", "leave"), ("from", "2027-03-11"), ("to", "2027-03-10")])
        #expect(reversed.body.contains("id=\"to-error\">结束时间须晚于开始时间"), "\(reversed)")
        #expect(try cells() == 14)
        #expect(try browser.post("/experts/\(chen)/spans", [("kind", "leave"), ("from", "2027-03-10")]).status == 403)

        // Recorded: the grid loses the Wednesday's four half hours; the API lists it; the audit names the console user.
        let added = try browser.post(
            "/experts/\(chen)/spans",
            [("csrf", csrf), ("kind", "leave"), ("from", "2027-03-10"), ("to", "2027-03-10"), ("note", "出差")])
        #expect(added.status == 303 && added.location?.hasPrefix("/experts/\(chen)?week=2027-W10") == true, "\(added)")
        #expect(try cells() == 10)
        let listed = try #require(try d.json("expert", "leave", "list", String(chen)) as? [String: Any])
        let spans = try #require(listed["spans"] as? [[String: Any]], "\(listed)")
        #expect(spans.count == 1, "\(spans)")
        #expect(try d.ctl("audit", "list", "--limit", "20").stdout.contains("expert.leave.add"))

        // Removed from the page: the grid is whole again.
        let shown = try browser.get("/experts/\(chen)?week=2027-W10")
        let span = try #require(spans.first?["id"] as? Int)
        #expect(shown.body.contains("id=\"remove-leave-\(span)\""), "\(shown)")
        let removed = try browser.post(
            "/experts/\(chen)/spans/remove?week=2027-W10", [("csrf", csrf), ("kind", "leave"), ("span", String(span))])
        #expect(removed.status == 303, "\(removed)")
        #expect(try cells() == 14)
        #expect(d.stop() == 0)
    }

    @Test func aRosterIsCheckedLineByLineThenPreviewedAndImportedOnlyWhenConfirmed() throws {
        let (d, browser, _) = try ConsoleBookingEndToEndTests.prepared()
        let before = try expertCount(d)
        let form = try browser.get("/experts/import")
        #expect(form.status == 200 && form.body.contains("导入花名册"), "\(form)")
        #expect(form.body.contains("<script src=\"/static/roster.js\"></script>"))
        let csrf = try #require(form.hidden("csrf"))

        // Three lines with four problems: each listed with its line, in Chinese; nothing imported.
        let bad = """
            姓名,角色,手机,服务警务室,每周时段
            王芳,律师,13800138100,jinshan,周六 09:00-12:00
            ,法官,13800138101,jinshan,
            赵六,律师,13800138102,nowhere,
            钱七,律师,13800138104,jinshan,每天早上
            """
        let refused = try browser.post("/experts/import", [("csrf", csrf), ("step", "preview"), ("text", bad)])
        #expect(refused.status == 422, "\(refused)")
        #expect(refused.body.contains("id=\"roster-problems\"") && refused.body.contains("尚未导入"), "\(refused)")
        #expect(refused.body.contains("第 3 行：“姓名”为空"), "\(refused)")
        #expect(refused.body.contains("第 3 行：角色“法官”无法识别"), "\(refused)")
        #expect(refused.body.contains("第 4 行：警务室“nowhere”不存在"), "\(refused)")
        #expect(refused.body.contains("第 5 行：每周时间“每天早上”无法识别"), "\(refused)")
        #expect(try expertCount(d) == before, "nothing imported")

        // Contacts, zone, cap and channel wrong: every problem in Chinese, no English sentence on the Chinese page.
        let contacts = """
            姓名,角色,手机,邮箱,服务警务室,时区,每日上限,首选渠道
            王芳,律师,12345,bad-email,jinshan,Mars/Base,-1,企业微信
            李四,律师,13800138105,,jinshan,,2,传真
            """
        let wrong = try browser.post("/experts/import", [("csrf", csrf), ("step", "preview"), ("text", contacts)])
        #expect(wrong.status == 422, "\(wrong)")
        for words in [
            "第 2 行：手机号“12345”不正确，应为 11 位数字（如 13800138000）",
            "第 2 行：邮箱“bad-email”不是有效的邮箱地址",
            "第 2 行：时区“Mars/Base”无法识别",
            "第 2 行：每日场次上限不能小于 0",
            "第 2 行：首选渠道“企业微信”没有对应的联系方式",
            "第 3 行：首选渠道“传真”无法识别，请写邮件、短信、企业微信或钉钉",
        ] {
            #expect(wrong.body.contains(words), "\(words) in \(wrong)")
        }
        for english in [
            "内容有误", "is not", "IANA", "no matching contact", "is below", "use 0 or more", "line 2", "请写 email",
        ] {
            #expect(!wrong.body.contains(english), "no '\(english)' on the Chinese page")
        }
        // The same file on an English page says it in English.
        browser.language = "en"
        let wrongEn = try browser.post("/experts/import", [("csrf", csrf), ("step", "preview"), ("text", contacts)])
        #expect(
            wrongEn.status == 422 && wrongEn.body.contains("is not an email address (name@example.org)"), "\(wrongEn)")
        #expect(wrongEn.body.contains("sessions per day -1 is below 0") && !wrongEn.body.contains("第 2 行"))
        browser.language = nil
        #expect(try expertCount(d) == before, "nothing imported")

        // A file saved as Excel's default ANSI (GBK), and an empty one: said in Chinese, with what to do.
        let gbk: [UInt8] =
            Array("name,role,mobile,offices\n".utf8) + [0xCD, 0xF5, 0xB7, 0xBC]
            + Array(",律师,13800138100,jinshan\n".utf8)
        let ansi = try browser.post(
            "/experts/import", [("csrf", csrf), ("step", "preview"), ("data", Data(gbk).base64EncodedString())])
        #expect(ansi.status == 422 && ansi.body.contains("第 2 行起不是 UTF-8 编码"), "\(ansi)")
        #expect(!ansi.body.contains("not UTF-8"), "no English on the Chinese page")
        let empty = try browser.post("/experts/import", [("csrf", csrf), ("step", "preview"), ("text", "")])
        #expect(empty.status == 422 && empty.body.contains("花名册是空的"), "\(empty)")

        // A good file, as a browser sends the chosen file (base64 of its bytes, with Excel's BOM): previewed only.
        let good = "\u{FEFF}姓名,角色,手机,服务警务室\r\n王芳,律师,13800138100,jinshan\r\n李四,退休干部,13800138103,jinshan\r\n"
        let data = Data(good.utf8).base64EncodedString()
        let preview = try browser.post("/experts/import", [("csrf", csrf), ("step", "preview"), ("data", data)])
        #expect(preview.status == 200 && preview.body.contains("将新增 2 位"), "\(preview)")
        #expect(preview.body.contains("id=\"roster-rows\"") && preview.body.contains("王芳"), "\(preview)")
        #expect(try expertCount(d) == before, "a preview writes nothing")
        // Confirmed: imported as `expert import` would, audited.
        let imported = try browser.post(
            "/experts/import", [("csrf", csrf), ("step", "import"), ("data", try #require(preview.hidden("data")))])
        #expect(imported.status == 303 && imported.location == "/experts?imported=2-0-0", "\(imported)")
        #expect(try expertCount(d) == before + 2)
        #expect(try browser.get("/experts?imported=2-0-0").body.contains("已导入：新增 2 位"))
        #expect(try d.ctl("audit", "list", "--limit", "20").stdout.contains("expert.import"))
        // A clerk of jinshan may not change an expert of another office through a roster, nor add one elsewhere.
        let elsewhere = "姓名,角色,手机,服务警务室,在岗\n林晓雯,律师,13900000004,jinshan,否\n"
        let stored = try #require(try d.json("expert", "list") as? [String: Any])
        let lin = (stored["experts"] as? [[String: Any]])?.first { $0["name"] as? String == "林晓雯" }
        let linMobile =
            try #require(try d.json("expert", "show", "林晓雯", "--reveal") as? [String: Any])["mobile"] as? String
        let foreign = try browser.post(
            "/experts/import",
            [
                ("csrf", csrf), ("step", "import"),
                ("text", elsewhere.replacingOccurrences(of: "13900000004", with: linMobile ?? "")),
            ])
        #expect(foreign.status == 422 && foreign.body.contains("只有管理员能导入或修改"), "\(foreign)")
        let after = try #require(try d.json("expert", "show", "林晓雯") as? [String: Any])
        #expect(after["active"] as? Bool == true && lin != nil, "unchanged: \(after)")
        let otherOffice = try browser.post(
            "/experts/import",
            [("csrf", csrf), ("step", "preview"), ("text", "姓名,角色,手机,服务警务室\n周七,律师,13800138109,hongqiao\n")])
        #expect(otherOffice.status == 422 && otherOffice.body.contains("警务室“hongqiao”不存在"), "\(otherOffice)")

        // A viewer may not import.
        let viewer = try ConsoleWeekEndToEndTests.account(
            d, base: browser.base, name: "zhao.viewer", role: "viewer", offices: ["jinshan"])
        #expect(try viewer.get("/experts/import").status == 403)

        // The export: CSV with a BOM, mobiles masked, and what import reads back as the same columns.
        let export = try browser.get("/experts/export.csv")
        #expect(export.status == 200 && export.headers["content-type"]?.hasPrefix("text/csv") == true, "\(export)")
        #expect(export.body.contains("王芳") && export.body.contains("138****8100"), "\(export)")
        #expect(!export.body.contains("13800138100"), "masked")
        // Offices by the names a clerk knows, which the import (here the CLI's) reads back to the same offices: its
        // only complaint about this masked copy is the masked numbers.
        #expect(export.body.contains("金山警务室") && !export.body.contains(",jinshan"), "\(export.body)")
        let file = d.dir.appendingPathComponent("exported.csv").path
        try export.body.write(toFile: file, atomically: true, encoding: .utf8)
        let checked = try d.ctl("expert", "import", file, "--dry-run")
        #expect(checked.stderr.contains("is masked") && !checked.stderr.contains("does not exist"), "\(checked)")
        #expect(d.stop() == 0)
    }
}
