import Foundation
import Testing

/// Refused forms in the console say why in the page's language, with the daemon's own words where it has them, and
/// write nothing; a page about an office that is not there says so; a warning the API answers is shown too. All
/// through the real daemon over HTTP, checked through the API.
@Suite(.serialized) struct ConsoleRefusalEndToEndTests {
    /// A day `days` from the daemon's now, as the console takes it (`2026-12-02`), in Asia/Shanghai.
    func day(_ d: DaemonUnderTest, plus days: Int) -> String { shanghaiDay(d.now, plus: days) }

    /// 改期 to a time gone by, an outcome recorded twice, a visit recorded too early or escalated without its kind:
    /// each said on the Chinese page in the daemon's own words, nothing written.
    @Test func aSessionsAndAVisitsRefusalsSayWhyInChinese() throws {
        let (d, browser, number) = try ConsoleBookingEndToEndTests.prepared()
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        let start = try #require(booked["start"] as? String)
        let page = try browser.get("/sessions/\(id)")
        let csrf = try #require(page.hidden("csrf"))

        // A time gone by: the finder's reason beside the new start, what was typed kept, the session not moved.
        let past = "\(day(d, plus: -4)) 14:00"
        let moved = try browser.post("/sessions/\(id)/reschedule", [("csrf", csrf), ("start", past)])
        #expect(moved.status == 422, "\(moved)")
        #expect(moved.body.contains("id=\"start-error\">这个时间已经过去"), "\(moved)")
        #expect(moved.body.contains("value=\"\(past)\""), "what was typed is kept")
        let shown = try #require(try d.json("session", "show", String(id)) as? [String: Any])
        #expect(shown["start"] as? String == start, "\(shown)")

        // Held and recorded through the API; recorded again from the console: the store's reason, nothing changed.
        try d.moveClock(toSession: id, plus: 60)
        #expect(try d.ctl("session", "start", String(id)).status == 0)
        #expect(try d.ctl("session", "end", String(id)).status == 0)
        #expect(try d.ctl("outcome", "record", String(id), "agreement", "--terms", "按时停车，互不占位").status == 0)
        let token = try ConsoleSessionEndToEndTests().signInAgain(browser)
        let twice = try browser.post(
            "/sessions/\(id)/outcome", [("csrf", token), ("result", "no_agreement"), ("notes", "第二次")])
        #expect(twice.status == 422, "\(twice)")
        // Said with the page's own buttons, not the command line's.
        #expect(twice.body.contains("id=\"form-problems\">本场调解已有结果") && twice.body.contains("“更正结果”"), "\(twice)")
        #expect(!twice.body.contains("outcome amend"), "\(twice)")
        let outcome = try #require(try d.json("outcome", "show", String(id)) as? [String: Any])
        #expect(outcome["result"] as? String == "agreement", "nothing changed: \(outcome)")

        // 回访 days before its day: from when it may be recorded; on its day, escalated without its kind: that the
        // kind is missing, beside it. Nothing recorded either time.
        let visits = try #require(
            (try d.json("followup", "list", "--all") as? [String: Any])?["followUps"] as? [[String: Any]])
        let visit = try #require(visits.first?["id"] as? Int, "\(visits)")
        let due = try #require(visits.first?["dueOn"] as? String, "\(visits)")
        let early = try browser.post("/followups/\(visit)", [("csrf", token), ("result", "stable")])
        #expect(early.status == 422, "\(early)")
        #expect(early.body.contains("id=\"result-\(visit)-error\">回访 #\(visit) 定于"), "\(early)")
        #expect(early.body.contains("起再记录"), "from when: \(early)")
        #expect(!early.body.contains("输入有误"), "\(early)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        try d.setClock(to: try #require(formatter.date(from: due)).addingTimeInterval(10 * 3600))
        let onItsDay = try ConsoleSessionEndToEndTests().signInAgain(browser)
        let noKind = try browser.post(
            "/followups/\(visit)", [("csrf", onItsDay), ("result", "escalated"), ("kind", ""), ("notes", "又吵起来了")])
        #expect(noKind.status == 422, "\(noKind)")
        #expect(noKind.body.contains("id=\"kind-\(visit)-error\">回访结果为“升级”时须选择升级类型"), "\(noKind)")
        #expect(noKind.body.contains("value=\"又吵起来了\"") && !noKind.body.contains("输入有误"), "\(noKind)")
        let after = try #require(
            (try d.json("followup", "list", "--all") as? [String: Any])?["followUps"] as? [[String: Any]])
        #expect(after.first { $0["id"] as? Int == visit }?["result"] == nil, "nothing recorded: \(after)")
        // A visit that is not there is named as a visit, not as a dispute.
        let nowhere = try browser.post("/followups/999999", [("csrf", onItsDay), ("result", "stable")])
        #expect(nowhere.status == 404 && nowhere.body.contains("没有这次待记录的回访"), "\(nowhere)")
        #expect(d.stop() == 0)
    }

    /// 预约 with a pinned expert of another office or one deactivated: that reason beside the field, not "cannot be
    /// booked"; a conflict of interest with a member of a booked panel: the warning the API answers, on the page.
    @Test func aPinnedExpertsReasonAndAConflictsWarningAreShown() throws {
        let (d, browser, number) = try ConsoleBookingEndToEndTests.prepared()
        let (from, to) = mondayAfterNext(plus: 11)
        let csrf = try #require(try browser.get("/disputes/\(number)/find").hidden("csrf"))
        #expect(try d.ctl("expert", "deactivate", "王建国").status == 0)
        for (pin, reason) in [("林晓雯", "不在调解室 jinshan 服务"), ("王建国", "已停用")] {
            let found = try browser.post(
                "/disputes/\(number)/find", [("csrf", csrf), ("from", from), ("to", to), ("pin", pin)])
            #expect(found.status == 422, "\(pin): \(found)")
            #expect(found.body.contains(reason), "\(pin): \(found)")
            #expect(!found.body.contains("无法预约"), "\(pin): \(found)")
            #expect(found.body.contains("value=\"\(pin)\"") && !found.body.contains("id=\"book-1\""), "\(found)")
        }
        #expect(try d.ctl("expert", "reactivate", "王建国").status == 0)

        // A member of the booked panel in conflict with the applicant: recorded, and the case file warns to replace
        // them on that session, in Chinese, as `conflict add` warns.
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        let member = try #require((booked["panel"] as? [[String: Any]])?.first?["name"] as? String)
        let file = try browser.get("/disputes/\(number)")
        #expect(!file.body.contains("id=\"conflict-warning\""), "\(file)")
        let party = try d.ctl("party", "add", number, "--name", "张伟", "--side", "申请人", "--mobile", "13700000011")
        #expect(party.status == 0, "\(party)")
        let applicant = try #require(
            try browser.get("/disputes/\(number)").body.firstMatch(of: #/<option value="([0-9]+)">张/#).map {
                String($0.1)
            })
        let added = try browser.post(
            "/disputes/\(number)/conflicts",
            [("csrf", csrf), ("expert", member), ("party", applicant), ("reason", "申请人的表亲")])
        #expect(added.status == 303, "\(added)")
        let warned = try browser.get(try #require(added.location))
        #expect(warned.body.contains("id=\"conflict-warning\""), "\(warned)")
        #expect(warned.body.contains("\(member) 在本纠纷已预约的调解中") && warned.body.contains("href=\"/sessions/\(id)\""))
        #expect(d.stop() == 0)
    }

    /// An office that is not there (or not the clerk's) is named as such; leave that is not there is said as such.
    @Test func anUnknownOfficeOrLeaveIsNamedForWhatItIs() throws {
        let (d, browser, _) = try ConsoleBookingEndToEndTests.prepared()
        for path in [
            "/week?office=nowhere", "/review?office=nowhere", "/experts?office=nowhere", "/week?office=xinhua",
        ] {
            let page = try browser.get(path)
            #expect(page.status == 404, "\(path): \(page)")
            #expect(page.body.contains("没有这个调解室，或您无权查看"), "\(path): \(page)")
            #expect(!page.body.contains("纠纷"), "\(path): \(page)")
        }

        let experts = try #require(try d.json("expert", "list") as? [String: Any])
        let expert = try #require(
            (experts["experts"] as? [[String: Any]])?.first { $0["name"] as? String == "王建国" }?["id"] as? Int)
        let page = try browser.get("/experts/\(expert)")
        let csrf = try #require(page.hidden("csrf"))
        let gone = try browser.post(
            "/experts/\(expert)/spans/remove", [("csrf", csrf), ("kind", "leave"), ("span", "999")])
        #expect(gone.status == 404, "\(gone)")
        #expect(gone.body.contains("id=\"span-error\">没有这条请假"), "\(gone)")
        #expect(!gone.body.contains("没有这位专家") && gone.body.contains("王建国"), "\(gone)")
        #expect(d.stop() == 0)
    }
}
