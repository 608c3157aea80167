import Foundation
import Testing

/// The case file beyond its facts (issue 16, item 5): the risk history, escalations (升级) recorded with their
/// problems beside their fields, the audit trail in Chinese, and the audited reveal of the parties' full numbers,
/// allowed to the roles of `privacy.reveal_roles` only; all through the real daemon over HTTP, checked through the API.
@Suite(.serialized) struct ConsoleCaseFileEndToEndTests {
    func escalations(_ d: DaemonUnderTest, _ number: String) throws -> [[String: Any]] {
        let list = try #require(try d.json("escalation", "list", number) as? [String: Any])
        return try #require(list["escalations"] as? [[String: Any]])
    }

    @Test func aClerkRecordsAnEscalationAndReadsTheRiskHistoryAndTrailInChinese() throws {
        let (d, browser, number) = try ConsoleBookingEndToEndTests.prepared()
        let risk = try d.ctl("dispute", "risk", number, "high", "--reason", "双方在楼道再次发生推搡")
        #expect(risk.status == 0, "\(risk)")

        let file = try browser.get("/disputes/\(number)")
        #expect(file.status == 200 && file.headers["cache-control"] == "no-store", "\(file)")
        // The risk history: from low to high with the reason, newest first.
        #expect(file.body.contains("id=\"risk-history\"") && file.body.contains("双方在楼道再次发生推搡"), "\(file)")
        #expect(file.body.contains("<strong>高</strong>"), "\(file)")
        // The trail, in Chinese: what was done and by whom, no English action code on the page.
        #expect(file.body.contains("id=\"trail\"") && file.body.contains("调整风险"), "\(file)")
        #expect(!file.body.contains("dispute.risk"), "no English action code on a Chinese page")
        let csrf = try #require(file.hidden("csrf"))

        // A criminal case without its case reference, on a day after today: both said beside their fields, in
        // Chinese; what was typed is kept; nothing is recorded.
        let refused = try browser.post(
            "/disputes/\(number)/escalations",
            [("csrf", csrf), ("kind", "criminal"), ("date", "2099-01-01"), ("case", " "), ("notes", "派出所已受理")])
        #expect(refused.status == 422, "\(refused)")
        #expect(refused.body.contains("id=\"escalation-case-error\">民转刑须填写公安或法院的案件编号"), "\(refused)")
        #expect(refused.body.contains("id=\"escalation-date-error\">升级日期 2099-01-01 在今天之后"), "\(refused)")
        #expect(refused.body.contains("value=\"派出所已受理\"") && refused.body.contains("value=\"2099-01-01\""))
        #expect(try escalations(d, number).isEmpty, "nothing recorded")
        // A day nobody can read.
        let unreadable = try browser.post(
            "/disputes/\(number)/escalations", [("csrf", csrf), ("kind", "violence"), ("date", "上周五")])
        #expect(unreadable.body.contains("id=\"escalation-date-error\">日期“上周五”无法识别"), "\(unreadable)")
        // Without the form's token: refused, nothing recorded.
        #expect(
            try browser.post("/disputes/\(number)/escalations", [("kind", "violence")]).status == 403)
        #expect(try escalations(d, number).isEmpty)

        // Recorded: on the case file in Chinese, through the API with its case reference, audited.
        let recorded = try browser.post(
            "/disputes/\(number)/escalations",
            [("csrf", csrf), ("kind", "criminal"), ("case", "金公立字(2026)118号"), ("notes", "派出所已受理")])
        #expect(recorded.status == 303 && recorded.location == "/disputes/\(number)#escalations", "\(recorded)")
        let listed = try escalations(d, number)
        #expect(listed.count == 1 && listed.first?["kind"] as? String == "criminal", "\(listed)")
        #expect(listed.first?["caseReference"] as? String == "金公立字(2026)118号", "\(listed)")
        let after = try browser.get("/disputes/\(number)")
        #expect(after.body.contains("<strong>民转刑</strong>") && after.body.contains("金公立字(2026)118号"), "\(after)")
        #expect(after.body.contains("登记升级"), "the trail names it")
        #expect(try d.ctl("audit", "list", "--limit", "50").stdout.contains("escalation.add"))

        // The data is still there after a restart.
        #expect(d.stop() == 0)
        try d.start()
        #expect(try escalations(d, number).count == 1)
    }

    @Test func fullNumbersAreShownOnlyToTheRevealRolesAndEveryRevealIsAudited() throws {
        let (d, base, oneTime) = try ConsoleHTTPEndToEndTests.console()
        let number = try ConsoleHTTPEndToEndTests().number(d, office: "jinshan")
        let party = try d.ctl(
            "party", "add", number, "--name", "李明", "--side", "申请人", "--mobile", "13700000001", "--id-card",
            "11010519491231002X")
        #expect(party.status == 0, "\(party)")
        let clerk = try ConsoleWeekEndToEndTests.signedIn(d, base, oneTime)

        // A clerk (staff; privacy.reveal_roles is admin by default) sees masked numbers and no reveal button; a
        // forged reveal is refused and shows nothing.
        let masked = try clerk.get("/disputes/\(number)")
        #expect(masked.body.contains("137****0001") && masked.body.contains("1101**********002X"), "\(masked)")
        #expect(!masked.body.contains("13700000001") && !masked.body.contains("id=\"reveal\""), "\(masked)")
        let forged = try clerk.post("/disputes/\(number)/reveal", [("csrf", try #require(masked.hidden("csrf")))])
        #expect(forged.status == 403 && !forged.body.contains("13700000001"), "\(forged)")
        #expect(!(try d.ctl("audit", "list", "--limit", "50").stdout.contains("party.reveal")))

        // An admin asks: the full numbers, once, on a page never kept; the audit names the party, never the number.
        let admin = try ConsoleWeekEndToEndTests.account(d, base: base, name: "wang.admin", role: "admin")
        let page = try admin.get("/disputes/\(number)")
        #expect(page.body.contains("id=\"reveal\"") && page.body.contains("137****0001"), "\(page)")
        #expect(try admin.post("/disputes/\(number)/reveal", []).status == 403, "no token, no reveal")
        let shown = try admin.post("/disputes/\(number)/reveal", [("csrf", try #require(page.hidden("csrf")))])
        #expect(shown.status == 200 && shown.headers["cache-control"] == "no-store", "\(shown)")
        #expect(shown.body.contains("13700000001") && shown.body.contains("11010519491231002X"), "\(shown)")
        #expect(shown.body.contains("id=\"revealed\""), "\(shown)")
        let audit = try d.ctl("audit", "list", "--limit", "50").stdout
        #expect(audit.contains("party.reveal") && audit.contains("wang.admin"), "\(audit)")
        #expect(!audit.contains("13700000001") && !audit.contains("11010519491231002X"), "\(audit)")
        // Reading the file again masks them again.
        #expect(!(try admin.get("/disputes/\(number)").body.contains("13700000001")))
        #expect(d.stop() == 0)
    }
}
