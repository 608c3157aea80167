import Foundation
import Testing

/// 预约 in the console (issue 16, item 5), through the real daemon over HTTP: a clerk finds times for a dispute and
/// books one; the options are the API's (the same finder and rules), the booking is the API's booking by option (a
/// session with its panel, audited under the clerk's name), a taken time is said and books nothing.
@Suite(.serialized) struct ConsoleBookingEndToEndTests {
    /// The console's daemon with the sample roster, and the clerk's browser.
    static func prepared() throws -> (DaemonUnderTest, ConsoleHTTPEndToEndTests.Browser, String) {
        let (d, base, oneTime) = try ConsoleHTTPEndToEndTests.console()
        for (id, name) in [("hongqiao", "虹桥警务室"), ("binjiang", "滨江警务室")] {
            #expect(try d.ctl("office", "add", id, "--name", name).status == 0)
        }
        let roster = try d.ctl("expert", "import", Repo.sampleRoster)
        #expect(roster.status == 0, "\(roster)")
        let list = try #require(try d.json("dispute", "list", "--office", "jinshan") as? [String: Any])
        let number = try #require((list["disputes"] as? [[String: Any]])?.first?["number"] as? String)
        return (d, try ConsoleWeekEndToEndTests.signedIn(d, base, oneTime), number)
    }

    func sessions(_ d: DaemonUnderTest, _ number: String) throws -> [[String: Any]] {
        let list = try #require(try d.json("session", "list", "--dispute", number) as? [String: Any])
        return try #require(list["sessions"] as? [[String: Any]])
    }

    @Test func aClerkFindsTheAPIsOptionsAndBooksOne() throws {
        let (d, browser, number) = try Self.prepared()
        let (from, to) = mondayAfterNext(plus: 11)

        // The case file offers the search; the form proposes the next two weeks.
        let file = try browser.get("/disputes/\(number)")
        #expect(file.body.contains("href=\"/disputes/\(number)/find\""), "\(file)")
        let form = try browser.get("/disputes/\(number)/find")
        #expect(form.status == 200 && form.body.contains("预约调解"), "\(form)")
        let csrf = try #require(form.hidden("csrf"))

        // A day nobody can read is said beside its field, in Chinese, and nothing is searched.
        let bad = try browser.post(
            "/disputes/\(number)/find", [("csrf", csrf), ("from", "下周一"), ("to", to), ("minutes", "九十")])
        #expect(bad.status == 422, "\(bad)")
        #expect(bad.body.contains("id=\"from-error\">开始日期“下周一”无法识别"), "\(bad)")
        #expect(bad.body.contains("id=\"minutes-error\">时长请填写分钟数"), "\(bad)")
        #expect(bad.body.contains("value=\"下周一\""), "what was typed is kept")
        // The dates the wrong way round, or a length over a day: Core's own reasons beside their fields.
        let reversed = try browser.post(
            "/disputes/\(number)/find", [("csrf", csrf), ("from", to), ("to", from), ("minutes", "600")])
        #expect(reversed.status == 422, "\(reversed)")
        #expect(reversed.body.contains("id=\"to-error\">结束日期早于开始日期"), "\(reversed)")
        #expect(reversed.body.contains("id=\"minutes-error\">时长 600 分钟不在"), "\(reversed)")

        // The options are the API's: the same times and the same panel, in the office's zone.
        let api = try #require(
            try d.json("session", "find", number, "--from", from, "--to", to) as? [String: Any])
        let apiOptions = try #require(api["options"] as? [[String: Any]])
        let first = try #require(apiOptions.first)
        let start = try #require(first["start"] as? String)
        let names = try #require(first["panel"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        let found = try browser.post("/disputes/\(number)/find", [("csrf", csrf), ("from", from), ("to", to)])
        #expect(found.status == 200, "\(found)")
        #expect(found.body.contains("id=\"book-1\""), "\(found)")
        // The policy by its seats in Chinese, in the chooser and above the options; never its bare id.
        #expect(found.body.contains("<small>标准组成（法制民警、律师、综治专干） · "), "\(found)")
        #expect(!found.body.contains(">standard<") && !found.body.contains("<small>standard"), "\(found)")
        let time = String(start.dropFirst(11).prefix(5))
        let month = Int(start.dropFirst(5).prefix(2)) ?? 0
        let day = Int(start.dropFirst(8).prefix(2)) ?? 0
        #expect(found.body.contains("\(month)月\(day)日") && found.body.contains(time), "\(start): \(found)")
        for name in names { #expect(found.body.contains(name), "\(name) on the panel shown") }
        #expect(found.body.contains("律师") || found.body.contains("法制民警"), "roles in Chinese")
        // And why: each member's role and recent sessions (the fairness the finder weighed), in Chinese.
        #expect(found.body.contains("<p class=\"hint why\">") && found.body.contains("近 30 天"), "\(found)")
        #expect(!found.body.contains("in 30 days") && !found.body.contains("legal_officer"), "\(found)")

        // Booking without the form's token books nothing.
        #expect(try browser.post("/disputes/\(number)/book", [("option", "1")]).status == 403)
        #expect(try sessions(d, number).isEmpty)

        // Booked: the case file says so and lists the session with its panel; the API has it, audited as the clerk's.
        let booked = try browser.post("/disputes/\(number)/book", [("csrf", csrf), ("option", "1")])
        #expect(booked.status == 303, "\(booked)")
        let location = try #require(booked.location)
        #expect(location.hasPrefix("/disputes/\(number)?booked="), "\(location)")
        let after = try browser.get(location)
        #expect(after.body.contains("已预约，通知将发给专家和当事人"), "\(after)")
        for name in names { #expect(after.body.contains(name), "\(name) on the booked session") }
        let stored = try sessions(d, number)
        #expect(stored.count == 1 && stored.first?["start"] as? String == start, "\(stored)")
        #expect(stored.first?["status"] as? String == "booked")
        let audit = try d.ctl("audit", "list", "--limit", "50").stdout
        #expect(audit.contains("session.book") && audit.contains("li.na"), "\(audit)")

        // The same option again: its experts now sit in that session. Said, nothing more booked.
        let again = try browser.post("/disputes/\(number)/book", [("csrf", csrf), ("option", "1")])
        #expect(again.status == 409 && again.body.contains("重新查找时间"), "\(again)")
        #expect(try sessions(d, number).count == 1)
    }

    @Test func aViewerCannotSearchOrBookAndAnotherOfficesDisputeIsNotThere() throws {
        let (d, browser, number) = try Self.prepared()
        // Another office's dispute reads as one that does not exist.
        let other = try #require(try d.json("dispute", "list", "--office", "xinhua") as? [String: Any])
        let theirs = try #require((other["disputes"] as? [[String: Any]])?.first?["number"] as? String)
        #expect(try browser.get("/disputes/\(theirs)/find").status == 404)
        let dashboard = try browser.get("/")
        let csrf = try #require(dashboard.hidden("csrf"))
        #expect(try browser.post("/disputes/\(theirs)/book", [("csrf", csrf), ("option", "1")]).status == 404)
        #expect(try sessions(d, theirs).isEmpty)

        // A viewer reads the case file but is offered no search, and a search or booking is refused.
        let viewer = try ConsoleWeekEndToEndTests.account(
            d, base: browser.base, name: "zhao.min", role: "viewer", offices: ["jinshan"])
        let file = try viewer.get("/disputes/\(number)")
        #expect(file.status == 200 && !file.body.contains("/find\""), "\(file)")
        #expect(try viewer.get("/disputes/\(number)/find").status == 403)
        let token = try #require(try viewer.get("/").hidden("csrf"))
        #expect(try viewer.post("/disputes/\(number)/book", [("csrf", token), ("option", "1")]).status == 403)
        #expect(try sessions(d, number).isEmpty)
    }
}
