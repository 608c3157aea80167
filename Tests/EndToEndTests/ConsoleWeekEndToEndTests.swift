import Foundation
import Testing

/// 日程 and 研判 in the console (issue 16, item 5), through the real daemon over HTTP: the week grid shows a booked
/// session on its day in the office's zone with its panel and its status in Chinese; the review shows Core's figures,
/// the same as the API's; its CSV is the API's; another office is 404.
@Suite(.serialized) struct ConsoleWeekEndToEndTests {
    typealias Browser = ConsoleHTTPEndToEndTests.Browser

    /// Signs the staff account in and sets its own password: a browser ready for pages.
    static func signedIn(_ d: DaemonUnderTest, _ base: String, _ oneTime: String, language: String? = nil) throws
        -> Browser
    {
        let browser = Browser(base: base, folder: d.dir)
        browser.language = language
        let login = try browser.get("/login")
        let csrf = try #require(login.hidden("csrf"), "\(login)")
        let signed = try browser.post("/login", [("csrf", csrf), ("name", "li.na"), ("password", oneTime)])
        #expect(signed.status == 303, "\(signed)")
        let page = try browser.get("/password")
        let token = try #require(page.hidden("csrf"), "\(page)")
        let password = "青松 river lamp 42"
        let changed = try browser.post(
            "/password", [("csrf", token), ("current", oneTime), ("new", password), ("repeat", password)])
        #expect(changed.status == 303, "\(changed)")
        return browser
    }

    /// A new account made with the real mediationctl, signed in and its own password set (远山 quiet harbour 77).
    static func account(
        _ d: DaemonUnderTest, base: String, name: String, role: String, offices: [String] = []
    ) throws -> Browser {
        let added = try d.ctl(args: ["user", "add", name, "--role", role] + offices.flatMap { ["--office", $0] })
        let oneTime = try #require(UserEndToEndTests.oneTimePassword(added.stdout), "\(added)")
        let browser = Browser(base: base, folder: d.dir)
        let login = try browser.get("/login")
        let signed = try browser.post(
            "/login", [("csrf", try #require(login.hidden("csrf"))), ("name", name), ("password", oneTime)])
        #expect(signed.status == 303, "\(signed)")
        let page = try browser.get("/password")
        let password = "远山 quiet harbour 77"
        let changed = try browser.post(
            "/password",
            [
                ("csrf", try #require(page.hidden("csrf"))), ("current", oneTime), ("new", password),
                ("repeat", password),
            ])
        #expect(changed.status == 303, "\(changed)")
        return browser
    }

    /// The ISO week of a day written `2026-12-14`: `2026-W51`.
    static func isoWeek(_ day: String) throws -> String {
        let (calendar, f) = shanghaiDays()
        let date = try #require(f.date(from: day))
        let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return String(format: "%04d-W%02d", c.yearForWeekOfYear ?? 0, c.weekOfYear ?? 0)
    }

    /// A booked session in jinshan: (dispute number, session id, start as the API shows it, panel names).
    static func book(_ d: DaemonUnderTest) throws -> (String, Int, String, [String]) {
        // The sample roster serves four offices; the console's daemon has two.
        for (id, name) in [("hongqiao", "虹桥警务室"), ("binjiang", "滨江警务室")] {
            #expect(try d.ctl("office", "add", id, "--name", name).status == 0)
        }
        let roster = try d.ctl("expert", "import", Repo.sampleRoster)
        #expect(roster.status == 0, "\(roster)")
        let list = try #require(try d.json("dispute", "list", "--office", "jinshan") as? [String: Any])
        let number = try #require((list["disputes"] as? [[String: Any]])?.first?["number"] as? String)
        _ = try SessionEndToEndTests().find(d, number)
        let session = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let names = try #require(session["panel"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        return (number, try #require(session["id"] as? Int), try #require(session["start"] as? String), names)
    }

    @Test func theWeekGridShowsABookedSessionOnItsDayWithItsPanelInChinese() throws {
        let (d, base, oneTime) = try ConsoleHTTPEndToEndTests.console()
        let (_, _, start, panel) = try Self.book(d)
        let week = try Self.isoWeek(String(start.prefix(10)))
        let browser = try Self.signedIn(d, base, oneTime)

        let page = try browser.get("/week?office=jinshan&week=\(week)")
        #expect(page.status == 200, "\(page)")
        #expect(page.headers["cache-control"] == "no-store")
        #expect(page.body.contains("日程") && page.body.contains("金山警务室的噪音纠纷"), "\(page)")
        // On its day, at its time in the office's zone (the API's start is already in it), with its panel and status.
        let time = String(start.dropFirst(11).prefix(5))
        #expect(page.body.contains("/sessions/") && page.body.contains(">\(time)–"), "\(page)")
        for name in panel { #expect(page.body.contains(name), "\(name) on the grid") }
        #expect(page.body.contains("已预约"), "the status in Chinese: \(page)")
        #expect(!page.body.contains(">booked<"), "no English status word on a Chinese page")
        // Previous and next weeks are links to the neighbouring weeks; the session is not on them.
        let next = try #require(page.body.firstMatch(of: #/id="next-week" href="([^"]+)"/#).map { String($0.1) })
        let following = try browser.get(next.replacingOccurrences(of: "&amp;", with: "&"))
        #expect(following.status == 200 && !following.body.contains("金山警务室的噪音纠纷"), "\(following)")
        // Without a week: this week on the daemon's clock.
        #expect(try browser.get("/week").status == 200)

        // Another office's week is 404, as an office that does not exist; a week that does not exist is 400 in
        // Chinese, naming what was typed.
        let other = try browser.get("/week?office=xinhua")
        let missing = try browser.get("/week?office=nowhere")
        #expect(other.status == 404 && missing.status == 404, "\(other)\n\(missing)")
        let bad = try browser.get("/week?office=jinshan&week=2026-W60")
        #expect(bad.status == 400 && bad.body.contains("2026-W60") && bad.body.contains("周次"), "\(bad)")

        // English by the browser's language: the same grid, English words only.
        browser.language = "en-GB,en;q=0.9"
        let english = try browser.get("/week?office=jinshan&week=\(week)")
        #expect(english.body.contains("Previous week") && english.body.contains("金山警务室的噪音纠纷"), "\(english)")
        #expect(!english.body.contains("上一周") && !english.body.contains("已预约"), "\(english)")
    }

    @Test func theReviewShowsTheAPIsFiguresPrintsOnA4AndDownloadsTheSameCSV() throws {
        let (d, base, oneTime) = try ConsoleHTTPEndToEndTests.console()
        let (_, _, start, _) = try Self.book(d)
        let week = try Self.isoWeek(String(start.prefix(10)))
        let browser = try Self.signedIn(d, base, oneTime)

        let page = try browser.get("/review?office=jinshan&week=\(week)")
        #expect(page.status == 200, "\(page)")
        // The office as clerks know it, and the time of the figures as people read it (not an RFC 3339 stamp).
        #expect(page.body.contains("每周研判 \(week) · 金山警务室") && !page.body.contains("· jinshan"), "\(page)")
        #expect(page.body.contains("截至 12月") || page.body.contains("截至 1月"), "\(page)")
        #expect(!page.body.contains("截至 20"), "\(page)")
        // The figures are the API's: open disputes and sessions coming, read from the same report.
        let api = try #require(
            try d.json("report", "weekly", "--office", "jinshan", "--week", week) as? [String: Any])
        let open = try #require(api["openTotal"] as? Int)
        #expect(page.body.contains("<td>在办纠纷</td><td class=\"n\">\(open)</td>"), "\(page)")
        #expect(!page.body.contains("open disputes"), "one language on the page")
        // Printing is the browser's own (Ctrl+P, said on the page): no script at all, and an A4 print style sheet
        // that leaves out the console's bar and forms.
        #expect(!page.body.contains("<script") && page.body.contains("Ctrl+P"), "\(page)")
        let css = try browser.get("/static/console.css")
        #expect(css.body.contains("@page { size: A4"), "\(css.body.suffix(400))")
        #expect(css.body.contains(".bar, form, .noprint, footer { display: none; }"))

        // The CSV is the API's (`Accept: text/csv`), as an attachment.
        let csv = try browser.get("/review.csv?office=jinshan&week=\(week)")
        #expect(csv.status == 200, "\(csv)")
        #expect(csv.headers["content-disposition"]?.contains("attachment") == true, "\(csv)")
        #expect(csv.headers["cache-control"] == "no-store")
        let (_, sent) = try d.curl([
            "-H", "Accept: text/csv", "http://localhost/v1/reports/weekly?office=jinshan&week=\(week)",
        ])
        let strip = { (s: String) in String(String.UnicodeScalarView(s.unicodeScalars.drop { $0 == "\u{FEFF}" })) }
        #expect(strip(csv.body) == strip(sent), "\(csv.body.prefix(200))\n\(sent.prefix(200))")

        // Another office's review is 404; without a session the page sends the reader to /login.
        #expect(try browser.get("/review?office=xinhua").status == 404)
        let stranger = Browser(base: base, folder: d.dir)
        let away = try stranger.get("/review.csv?office=jinshan")
        #expect(away.status == 303 && away.location == "/login", "\(away)")
    }

    @Test func theOutcomesReportOverARangeIsTheAPIsInOneLanguage() throws {
        let (d, base, oneTime) = try ConsoleHTTPEndToEndTests.console()
        let (_, id, start, _) = try Self.book(d)
        try d.moveClock(toSession: id, plus: 90 * 60)
        #expect(try d.ctl("session", "start", String(id)).status == 0)
        #expect(try d.ctl("session", "end", String(id)).status == 0)
        let recorded = try d.ctl("outcome", "record", String(id), "agreement", "--terms", "赔偿八百元", "--signed")
        #expect(recorded.status == 0, "\(recorded)")
        let browser = try Self.signedIn(d, base, oneTime)
        let day = String(start.prefix(10))

        // The review links the report; the range and grouping are the reader's.
        #expect(try browser.get("/review?office=jinshan").body.contains("id=\"outcomes-report\""))
        let page = try browser.get("/review/outcomes?office=jinshan&from=\(day)&to=\(day)&by=category")
        #expect(page.status == 200 && page.headers["cache-control"] == "no-store", "\(page)")
        #expect(page.body.contains("调解结果统计 \(day) — \(day)") && page.body.contains("按类别"), "\(page)")
        // The API's figures: one outcome, one agreement, in the noise category, named in Chinese.
        let api = try #require(
            try d.json("report", "outcomes", "--office", "jinshan", "--from", day, "--to", day, "--by", "category")
                as? [String: Any])
        let total = try #require(api["total"] as? [String: Any])
        #expect(total["agreements"] as? Int == 1, "\(api)")
        #expect(page.body.contains("<td>噪音</td><td class=\"n\">1</td><td class=\"n\">1</td>"), "\(page)")
        #expect(page.body.contains("<td>合计</td>") && page.body.contains("100.0%"), "\(page)")
        #expect(!page.body.contains("settlement rate") && !page.body.contains(">noise<"), "one language")
        let byOffice = try browser.get("/review/outcomes?office=jinshan&from=\(day)&to=\(day)&by=office")
        #expect(byOffice.body.contains("<td>金山警务室</td>") && !byOffice.body.contains("<td>jinshan"), "\(byOffice)")
        // The CSV is the API's.
        let csv = try browser.get("/review/outcomes.csv?office=jinshan&from=\(day)&to=\(day)&by=category")
        #expect(csv.status == 200 && csv.headers["content-disposition"]?.contains("attachment") == true, "\(csv)")
        let (_, sent) = try d.curl([
            "-H", "Accept: text/csv",
            "http://localhost/v1/reports/outcomes?office=jinshan&from=\(day)&to=\(day)&by=category",
        ])
        let strip = { (s: String) in String(String.UnicodeScalarView(s.unicodeScalars.drop { $0 == "\u{FEFF}" })) }
        #expect(strip(csv.body) == strip(sent), "\(csv.body.prefix(300))\n\(sent.prefix(300))")

        // A range nobody can read, or backwards: said in Chinese, no report.
        let backwards = try browser.get("/review/outcomes?office=jinshan&from=2026-12-31&to=2026-10-01")
        #expect(
            backwards.status == 422
                && backwards.body.contains("id=\"range-error\">开始日期 2026-12-31 晚于结束日期 2026-10-01，请把较早的日期填在前面"))
        #expect(try browser.get("/review/outcomes?office=xinhua").status == 404, "another office")
        #expect(d.stop() == 0)
    }
}
