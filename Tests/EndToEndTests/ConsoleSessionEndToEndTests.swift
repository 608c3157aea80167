import Foundation
import Testing

/// One session in the console (issue 16, item 5: the session page and 结果), through the real daemon over HTTP on its
/// moved clock: the panel and their answers, start only around its time, cancel only with a reason, end, and the
/// outcome recorded with its problems beside their fields; every change is the API's and shows through it.
@Suite(.serialized) struct ConsoleSessionEndToEndTests {
    /// Signs li.na in again with her own password: moving the daemon's clock by hours ends her idle session.
    func signInAgain(_ browser: ConsoleHTTPEndToEndTests.Browser) throws -> String {
        let login = try browser.get("/login")
        let csrf = try #require(login.hidden("csrf"), "\(login)")
        let signed = try browser.post(
            "/login", [("csrf", csrf), ("name", "li.na"), ("password", "青松 river lamp 42")])
        #expect(signed.status == 303 && signed.location == "/", "\(signed)")
        return try #require(try browser.get("/").hidden("csrf"))
    }

    func status(_ d: DaemonUnderTest, _ id: Int) throws -> String? {
        (try d.json("session", "show", String(id)) as? [String: Any])?["status"] as? String
    }

    @Test func aClerkStartsEndsAndRecordsTheOutcomeOfASessionAsTheAPIWould() throws {
        let (d, browser, number) = try ConsoleBookingEndToEndTests.prepared()
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        let names = try #require(booked["panel"] as? [[String: Any]]).compactMap { $0["name"] as? String }

        // The case file links the session; the page shows its panel and their answers, in Chinese.
        let file = try browser.get("/disputes/\(number)")
        #expect(file.body.contains("href=\"/sessions/\(id)\""), "\(file)")
        let page = try browser.get("/sessions/\(id)")
        #expect(page.status == 200 && page.headers["cache-control"] == "no-store", "\(page)")
        for name in names { #expect(page.body.contains(name), "\(name) on the panel") }
        #expect(page.body.contains("已预约") && page.body.contains("待回复"), "\(page)")
        #expect(page.body.contains("id=\"cancel\""))
        // Days before its start there is no start button, only when it can be started (30 minutes before).
        #expect(!page.body.contains("id=\"start\">") && page.body.contains("id=\"starts-from\">可开始调解的时间："))
        let csrf = try #require(page.hidden("csrf"))

        // A start forged days before: refused as the store refuses it, and nothing changes.
        let early = try browser.post("/sessions/\(id)/mark", [("csrf", csrf), ("status", "in_session")])
        #expect(early.status == 422 && early.body.contains("id=\"form-problems\""), "\(early)")
        #expect(try status(d, id) == "booked")
        // Cancelling needs a reason, said beside its field.
        let noReason = try browser.post("/sessions/\(id)/cancel", [("csrf", csrf), ("reason", " ")])
        #expect(noReason.status == 422 && noReason.body.contains("id=\"reason-error\">请填写取消的原因"), "\(noReason)")
        #expect(try status(d, id) == "booked")
        // Without the token nothing happens.
        #expect(try browser.post("/sessions/\(id)/mark", [("status", "in_session")]).status == 403)

        // At its time: started, then ended, as the API shows.
        try d.moveClock(toSession: id, plus: 60)
        // Days later on the daemon's clock, the idle session has ended: the form goes to the login page, unchanged.
        let stale = try browser.post("/sessions/\(id)/mark", [("csrf", csrf), ("status", "in_session")])
        #expect(stale.status == 303 && stale.location == "/login", "\(stale)")
        #expect(try status(d, id) == "booked")
        var token = try signInAgain(browser)
        let now = try browser.get("/sessions/\(id)")
        #expect(now.body.contains("id=\"start\">") && !now.body.contains("id=\"starts-from\""), "\(now)")
        let started = try browser.post("/sessions/\(id)/mark", [("csrf", token), ("status", "in_session")])
        #expect(started.status == 303 && started.location == "/sessions/\(id)?done=markSession", "\(started)")
        #expect(try status(d, id) == "in_session")
        try d.moveClock(toSession: id, plus: 90 * 60)
        token = try signInAgain(browser)
        #expect(try browser.post("/sessions/\(id)/mark", [("csrf", token), ("status", "ended")]).status == 303)
        #expect(try status(d, id) == "ended")

        // The outcome: an amount nobody can read is said beside it, what was typed kept, nothing recorded.
        let ended = try browser.get("/sessions/\(id)")
        #expect(ended.body.contains("id=\"record\""), "\(ended)")
        let bad = try browser.post(
            "/sessions/\(id)/outcome",
            [("csrf", token), ("result", "agreement"), ("terms", "王某赔偿医药费，三日内付清"), ("amount", "一千二")])
        #expect(bad.status == 422 && bad.body.contains("id=\"amount-error\">金额“一千二”无法识别"), "\(bad)")
        #expect(bad.body.contains("王某赔偿医药费，三日内付清") && bad.body.contains("value=\"一千二\""), "\(bad)")
        #expect(try d.ctl("outcome", "show", String(id)).status != 0, "nothing recorded")
        let recorded = try browser.post(
            "/sessions/\(id)/outcome",
            [
                ("csrf", token), ("result", "agreement"), ("terms", "王某赔偿医药费，三日内付清"), ("amount", "1200.50"),
                ("signed", "on"),
            ])
        #expect(recorded.status == 303, "\(recorded)")
        let outcome = try #require(try d.json("outcome", "show", String(id)) as? [String: Any])
        #expect(outcome["result"] as? String == "agreement" && outcome["signed"] as? Bool == true, "\(outcome)")
        #expect("\(outcome)".contains("1200.50") || outcome["amountFen"] as? Int == 120_050, "\(outcome)")
        let shown = try browser.get("/sessions/\(id)")
        #expect(shown.body.contains("达成协议") && shown.body.contains("1200.50") && !shown.body.contains("id=\"record\""))
        // 更正: a bad amount beside its field, nothing changed; a good one corrects it, as the API shows.
        let badAmend = try browser.post(
            "/sessions/\(id)/outcome/amend", [("csrf", token), ("amount", "一千五"), ("signed", "on")])
        #expect(badAmend.status == 422 && badAmend.body.contains("金额“一千五”无法识别"), "\(badAmend)")
        // Corrected into 移交其他部门 without whom to: the form has that field, the reason beside it, and the reason
        // typed for the correction is kept.
        let noReferee = try browser.post(
            "/sessions/\(id)/outcome/amend",
            [("csrf", token), ("result", "referred_other"), ("amount", "1200.50"), ("reason", "记错了结果")])
        #expect(noReferee.status == 422 && noReferee.body.contains("id=\"to-error\">"), "\(noReferee)")
        #expect(
            noReferee.body.contains("id=\"amend-to\"") && noReferee.body.contains("value=\"记错了结果\""), "\(noReferee)")
        #expect((try d.json("outcome", "show", String(id)) as? [String: Any])?["result"] as? String == "agreement")
        let amended = try browser.post(
            "/sessions/\(id)/outcome/amend",
            [("csrf", token), ("amount", "1500"), ("signed", "on"), ("reason", "笔误，应为 1500 元")])
        #expect(amended.status == 303, "\(amended)")
        let corrected = try #require(try d.json("outcome", "show", String(id)) as? [String: Any])
        #expect("\(corrected)".contains("1500.00") || corrected["amountFen"] as? Int == 150_000, "\(corrected)")
        // 作废: only with a reason (beside the field), then voided: the API has no outcome in force, and the page
        // offers to record it again.
        let unexplained = try browser.post("/sessions/\(id)/outcome/void", [("csrf", token), ("voidReason", "")])
        #expect(
            unexplained.status == 422 && unexplained.body.contains("id=\"voidReason-error\">请填写作废的原因"), "\(unexplained)"
        )
        let voided = try browser.post("/sessions/\(id)/outcome/void", [("csrf", token), ("voidReason", "记错了场次")])
        #expect(voided.status == 303, "\(voided)")
        #expect(try d.ctl("outcome", "show", String(id)).status != 0, "no outcome in force")
        // Voided again from a tab left open: the session page says there is no outcome in force, not "no session".
        let staleTab = try browser.post("/sessions/\(id)/outcome/void", [("csrf", token), ("voidReason", "再作废一次")])
        #expect(staleTab.status != 404 && staleTab.body.contains("id=\"form-problems\">"), "\(staleTab)")
        #expect(!staleTab.body.contains("没有这场调解"), "\(staleTab)")
        #expect(try browser.get("/sessions/\(id)").body.contains("id=\"record\""))
        // Recorded again, for the visits below.
        #expect(
            try browser.post(
                "/sessions/\(id)/outcome",
                [("csrf", token), ("result", "agreement"), ("terms", "王某赔偿医药费，三日内付清"), ("amount", "1500")]
            ).status == 303)
        // The agreement planned the follow-up visits, as through the API.
        let visits = try d.ctl("followup", "list", "--all")
        #expect(visits.stdout.contains(number), "\(visits)")
        let audit = try d.ctl("audit", "list", "--limit", "80").stdout
        #expect(audit.contains("outcome.record") || audit.contains("outcome"), "\(audit)")
    }

    /// 回访: the visits an agreement planned, recorded from the console on their day, as `followup record` would.
    @Test func aClerkRecordsAFollowUpVisitOnItsDay() throws {
        let (d, browser, number) = try ConsoleBookingEndToEndTests.prepared()
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        try d.moveClock(toSession: id, plus: 60)
        #expect(try d.ctl("session", "start", String(id)).status == 0)
        #expect(try d.ctl("session", "end", String(id)).status == 0)
        let outcome = try d.ctl("outcome", "record", String(id), "agreement", "--terms", "按时停车，互不占位")
        #expect(outcome.status == 0, "\(outcome)")
        let visits = try #require(
            (try d.json("followup", "list", "--all") as? [String: Any])?["followUps"] as? [[String: Any]])
        let visit = try #require(visits.first?["id"] as? Int, "\(visits)")
        let due = try #require(visits.first?["dueOn"] as? String, "\(visits)")

        var token = try signInAgain(browser)
        let list = try browser.get("/followups")
        #expect(
            list.status == 200 && list.body.contains(number) && list.body.contains("id=\"record-\(visit)\""), "\(list)")
        // Days ahead of the visit: refused, said on the page, nothing recorded.
        let early = try browser.post("/followups/\(visit)", [("csrf", token), ("result", "stable")])
        #expect(early.status == 422 && early.body.contains("id=\"result-\(visit)-error\""), "\(early)")
        // A result nobody can read, beside its field in Chinese.
        let unknown = try browser.post("/followups/\(visit)", [("csrf", token), ("result", "很好")])
        #expect(unknown.status == 422 && unknown.body.contains("回访结果“很好”无法识别"), "\(unknown)")
        // On its day, recorded: the API shows it, and it leaves the list.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        let day = try #require(formatter.date(from: due))
        try d.setClock(to: day.addingTimeInterval(10 * 3600))
        token = try signInAgain(browser)
        let done = try browser.post(
            "/followups/\(visit)", [("csrf", token), ("result", "stable"), ("notes", "双方已按协议停车")])
        #expect(done.status == 303 && done.location == "/followups?done=\(visit)", "\(done)")
        let after = try #require(
            (try d.json("followup", "list", "--all") as? [String: Any])?["followUps"] as? [[String: Any]])
        let recorded = try #require(after.first { $0["id"] as? Int == visit })
        #expect(recorded["result"] as? String == "stable", "\(recorded)")
        #expect(!(try browser.get("/followups")).body.contains("id=\"record-\(visit)\""))
    }

    @Test func anotherOfficesSessionIsNotThere() throws {
        let (d, browser, number) = try ConsoleBookingEndToEndTests.prepared()
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        #expect(try browser.get("/sessions/\(id)").status == 200)
        // A clerk of xinhua: jinshan's session reads as one that does not exist, and cannot be cancelled.
        let other = try ConsoleWeekEndToEndTests.account(
            d, base: browser.base, name: "zhou.jie", role: "staff", offices: ["xinhua"])
        #expect(try other.get("/sessions/\(id)").status == 404)
        let token = try #require(try other.get("/").hidden("csrf"))
        let cancel = try other.post("/sessions/\(id)/cancel", [("csrf", token), ("reason", "误约")])
        #expect(cancel.status == 404, "\(cancel)")
        #expect(try status(d, id) == "booked")
        #expect(try browser.get("/sessions/999999").status == 404)
        #expect(try browser.get("/sessions/abc").status == 404)
    }

    @Test func aClerkRecordsTheExpertsAnswersAndADeclineOpensTheSubstitutes() throws {
        let (d, browser, number) = try ConsoleBookingEndToEndTests.prepared()
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        let panel = try #require(booked["panel"] as? [[String: Any]])
        let first = try #require(panel.first?["expert"] as? Int)
        let second = try #require(panel.dropFirst().first?["expert"] as? Int)
        func answers() throws -> [Int: String] {
            let shown = try #require(try d.json("session", "show", String(id)) as? [String: Any])
            let members = try #require(shown["panel"] as? [[String: Any]])
            return Dictionary(
                uniqueKeysWithValues: members.compactMap { m in
                    (m["expert"] as? Int).map { ($0, m["invitation"] as? String ?? "") }
                })
        }

        let page = try browser.get("/sessions/\(id)")
        #expect(page.body.contains("id=\"accept-\(first)\"") && page.body.contains("id=\"decline-\(first)\""))
        let csrf = try #require(page.hidden("csrf"))
        // Without the token, or with an answer that is not one: nothing recorded.
        #expect(
            try browser.post("/sessions/\(id)/rsvp", [("expert", String(first)), ("answer", "accepted")]).status == 403)
        let odd = try browser.post(
            "/sessions/\(id)/rsvp", [("csrf", csrf), ("expert", String(first)), ("answer", "maybe")])
        #expect(odd.status == 400, "\(odd)")
        #expect(try answers()[first] == "pending")

        // Accepted: shown in Chinese, the button gone; through the API too.
        let accepted = try browser.post(
            "/sessions/\(id)/rsvp", [("csrf", csrf), ("expert", String(first)), ("answer", "accepted")])
        #expect(accepted.status == 303 && accepted.location == "/sessions/\(id)?done=rsvpSession", "\(accepted)")
        #expect(try answers()[first] == "accepted")
        let after = try browser.get("/sessions/\(id)")
        #expect(after.body.contains("已接受") && !after.body.contains("id=\"accept-\(first)\""), "\(after)")

        // Declined: the page of ranked substitutes for that seat, as `rsvp` offers them.
        let declined = try browser.post(
            "/sessions/\(id)/rsvp", [("csrf", csrf), ("expert", String(second)), ("answer", "declined")])
        #expect(declined.status == 303, "\(declined)")
        #expect(declined.location == "/sessions/\(id)?replace=\(second)#substitutes", "\(declined)")
        #expect(try answers()[second] == "declined")
        let substitutes = try browser.get("/sessions/\(id)?replace=\(second)")
        #expect(substitutes.body.contains("id=\"substitutes\"") && substitutes.body.contains("已谢绝"), "\(substitutes)")
        #expect(try d.ctl("audit", "list", "--limit", "50").stdout.contains("session.rsvp"))
        // Until someone takes the seat, the page says who declined before anyone starts without them.
        let secondName = try #require(panel.dropFirst().first?["name"] as? String)
        let warned = try browser.get("/sessions/\(id)")
        #expect(warned.body.contains("id=\"declined-warning\""), "\(warned)")
        #expect(warned.body.contains("已谢绝，尚未替换") && warned.body.contains(secondName), "\(warned)")

        // An expert who is not on the panel: the store's reason in Chinese on the page, nothing recorded.
        let roster = try #require(try d.json("expert", "list") as? [String: Any])
        let outsider = try #require(
            (roster["experts"] as? [[String: Any]])?.compactMap { $0["id"] as? Int }.first {
                ![first, second].contains($0) && !panel.compactMap({ $0["expert"] as? Int }).contains($0)
            })
        let notOnPanel = try browser.post(
            "/sessions/\(id)/rsvp", [("csrf", csrf), ("expert", String(outsider)), ("answer", "accepted")])
        #expect(notOnPanel.status == 422 && notOnPanel.body.contains("不在这场调解的专家组里"), "\(notOnPanel)")
        #expect(try answers()[outsider] == nil)

        // A viewer sees the answers but cannot record one.
        let viewer = try ConsoleWeekEndToEndTests.account(
            d, base: browser.base, name: "zhao.viewer", role: "viewer", offices: ["jinshan"])
        let seen = try viewer.get("/sessions/\(id)")
        #expect(seen.status == 200 && !seen.body.contains("id=\"decline-"), "\(seen)")
        let refused = try viewer.post(
            "/sessions/\(id)/rsvp",
            [("csrf", try #require(seen.hidden("csrf"))), ("expert", String(first)), ("answer", "declined")])
        #expect(refused.status == 403, "\(refused)")
        #expect(try answers()[first] == "accepted")
        #expect(d.stop() == 0)
    }

    @Test func leaveOverABookedSessionLinksToItAndItsPageSaysToReplaceTheMember() throws {
        let (d, browser, number) = try ConsoleBookingEndToEndTests.prepared()
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        let member = try #require((booked["panel"] as? [[String: Any]])?.first)
        let expert = try #require(member["expert"] as? Int)
        let name = try #require(member["name"] as? String)
        let startText = try #require(booked["start"] as? String)
        let day = String(startText.prefix(10))
        #expect(!(try browser.get("/sessions/\(id)").body.contains("id=\"leave-warning\"")))

        // Leave for the session's day through the console: the page it lands on links the session.
        let page = try browser.get("/experts/\(expert)")
        let csrf = try #require(page.hidden("csrf"))
        let added = try browser.post(
            "/experts/\(expert)/spans", [("csrf", csrf), ("kind", "leave"), ("from", day), ("to", day), ("note", "出差")])
        #expect(added.status == 303 && (added.location ?? "").contains("covered=\(id)"), "\(added)")
        let landed = try browser.get(try #require(added.location))
        #expect(landed.body.contains("id=\"covered\"") && landed.body.contains("href=\"/sessions/\(id)\""), "\(landed)")

        // The session's page says the member is on leave, in Chinese, until they are replaced.
        let session = try browser.get("/sessions/\(id)")
        #expect(
            session.body.contains("id=\"leave-warning\"") && session.body.contains("以下专家在本场次期间请假")
                && session.body.contains(name), "\(session)")
        #expect(d.stop() == 0)
    }

    @Test func aRosterThatTakesABookedMemberOutOfThePoolSaysSoBeforeItIsImported() throws {
        let (d, clerk, number) = try ConsoleBookingEndToEndTests.prepared()
        // The whole roster serves every office: an admin imports it.
        let browser = try ConsoleWeekEndToEndTests.account(d, base: clerk.base, name: "zhao.admin", role: "admin")
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        let member = try #require((booked["panel"] as? [[String: Any]])?.first)
        let name = try #require(member["name"] as? String)
        // The sample roster (lines end CR LF, as Excel saves them) with that member's last column (在岗) turned to 否.
        let sample = try String(contentsOfFile: Repo.sampleRoster, encoding: .utf8)
        let lines = sample.components(separatedBy: "\r\n").map { line -> String in
            line.hasPrefix(name + ",") && line.hasSuffix(",是") ? String(line.dropLast()) + "否" : line
        }
        let roster = lines.joined(separator: "\r\n")
        #expect(roster != sample, "the member is in the sample roster")

        // The console's preview marks the line and links the session before anything is written.
        let form = try browser.get("/experts/import")
        let csrf = try #require(form.hidden("csrf"))
        let preview = try browser.post(
            "/experts/import",
            [("csrf", csrf), ("step", "preview"), ("data", Data(roster.utf8).base64EncodedString())])
        #expect(preview.status == 200 && preview.body.contains("停用（不再参加调解）"), "\(preview)")
        #expect(
            preview.body.contains("id=\"roster-deactivation\"") && preview.body.contains("href=\"/sessions/\(id)\""),
            "\(preview)")
        let still = try #require(try d.json("expert", "show", name) as? [String: Any])
        #expect(still["active"] as? Bool == true, "a preview writes nothing")

        // The CLI's dry run says the same.
        let file = d.dir.appendingPathComponent("roster-out.csv").path
        try roster.write(toFile: file, atomically: true, encoding: .utf8)
        let dry = try d.ctl("expert", "import", file, "--dry-run")
        #expect(dry.status == 0 && dry.stdout.contains("would take 1 out of the pool"), "\(dry)")
        #expect(dry.stderr.contains("session #\(id)") && dry.stderr.contains("'session replace \(id) "), "\(dry)")
        #expect(d.stop() == 0)
    }
}
