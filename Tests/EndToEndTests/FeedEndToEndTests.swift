import Foundation
import Testing

/// An expert's personal calendar feed (issue 17, item 3): `expert feed` hands out its address, the web listener
/// serves it without sign-in, a real parser (icalendar) reads it, it follows a reschedule, `expert feed reset`
/// retires the old address, and a forged one is 404.
@Suite(.serialized) struct FeedEndToEndTests {
    func parsed(_ ics: String) throws -> [String: Any] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID().uuidString).ics")
        try ics.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let python = Repo.root.appendingPathComponent(".venv/bin/python").path
        let r = try runProgram(python, [Repo.root.appendingPathComponent("Tests/peers/feed_check.py").path, file.path])
        guard r.status == 0 else { throw HarnessError("icalendar refused the feed: \(r)") }
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    /// `2026-12-14T14:00:00+08:00` as the UTC instant icalendar prints.
    func utc(_ rfc3339: String) throws -> String {
        let date = try #require(ISO8601DateFormatter().date(from: rfc3339), "\(rfc3339)")
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    @Test func anExpertSubscribesAndTheFeedFollowsTheirSessions() throws {
        let (d, browser, number) = try ConsoleBookingEndToEndTests.prepared()
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        let expert = try #require((booked["panel"] as? [[String: Any]])?.first?["expert"] as? Int)
        let start = try #require(booked["start"] as? String)

        // The address, as staff hand it to the expert.
        let shown = try d.ctl("expert", "feed", String(expert))
        #expect(shown.status == 0 && shown.stdout.contains("webcal://") && shown.stdout.contains("/feeds/"), "\(shown)")
        let feed = try #require(try d.json("expert", "feed", String(expert)) as? [String: Any])
        let path = try #require(feed["path"] as? String)
        #expect(path.hasPrefix("/feeds/") && path.hasSuffix(".ics") && path.count == "/feeds/".count + 32 + 4)
        #expect((feed["webcal"] as? String)?.hasPrefix("webcal://") == true, "\(feed)")
        let asked = try #require(try d.json("expert", "feed", String(expert)) as? [String: Any])
        #expect(asked["path"] as? String == path, "asked again: the same address")

        // No sign-in: the token is the key. Served as a calendar, not kept by a cache.
        let anonymous = ConsoleHTTPEndToEndTests.Browser(
            base: browser.base, folder: FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID())"))
        let first = try anonymous.get(path)
        #expect(first.status == 200 && first.headers["content-type"]?.hasPrefix("text/calendar") == true, "\(first)")
        #expect(first.headers["cache-control"] == "no-store")
        let calendar = try parsed(first.body)
        #expect(calendar["method"] as? String == "PUBLISH" && (calendar["errors"] as? [Any])?.isEmpty == true)
        let events = try #require(calendar["events"] as? [[String: Any]])
        let event = try #require(
            events.first { ($0["uid"] as? String)?.hasPrefix("session-\(id)@") == true }, "\(events)")
        #expect(event["start"] as? String == (try utc(start)), "\(event) vs \(start)")
        #expect(event["status"] as? String == "CONFIRMED")
        #expect((event["summary"] as? String)?.contains(number) == true, "\(event)")

        // Moved a week on: the same event, a higher sequence, the new time.
        let later = try #require(
            ISO8601DateFormatter().date(from: start).map { $0.addingTimeInterval(7 * 86400) })
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.formatOptions = [.withInternetDateTime]
        let moved = try d.ctl("session", "reschedule", String(id), "--to", f.string(from: later))
        #expect(moved.status == 0, "\(moved)")
        let after = try parsed(try anonymous.get(path).body)
        let movedEvent = try #require(
            (after["events"] as? [[String: Any]])?.first { $0["uid"] as? String == event["uid"] as? String })
        #expect(movedEvent["start"] as? String == (try utc(f.string(from: later))), "\(movedEvent)")
        #expect((movedEvent["sequence"] as? Int ?? 0) > (event["sequence"] as? Int ?? 0), "\(movedEvent)")

        // Forged or malformed: 404, as if there were nothing there.
        #expect(try anonymous.get("/feeds/0123456789abcdef0123456789abcdef.ics").status == 404)
        #expect(try anonymous.get("/feeds/nothing.ics").status == 404)
        #expect(try anonymous.get(String(path.dropLast(4))).status == 404)

        // The console's expert page shows staff the same address, to send on, and can replace it (audited).
        let expertPage = try browser.get("/experts/\(expert)")
        #expect(expertPage.body.contains("id=\"feed-address\"") && expertPage.body.contains(path), "\(expertPage)")
        let csrf = try #require(expertPage.hidden("csrf"))
        let renewed = try browser.post("/experts/\(expert)/feed/reset", [("csrf", csrf)])
        #expect(renewed.status == 303 && renewed.location == "/experts/\(expert)?feed=new#feed", "\(renewed)")
        #expect(try anonymous.get(path).status == 404, "the old address is gone")
        let consolePath =
            try #require(try d.json("expert", "feed", String(expert)) as? [String: Any])["path"] as? String
        #expect(try anonymous.get(try #require(consolePath)).status == 200)
        #expect(try d.ctl("audit", "list", "--limit", "20").stdout.contains("li.na"), "reset under the clerk's name")

        // Reset: the old address is gone, the new one works, and the reset is on the audit record.
        let reset = try #require(try d.json("expert", "feed", "reset", String(expert)) as? [String: Any])
        let newPath = try #require(reset["path"] as? String)
        #expect(newPath != path && newPath != consolePath)
        #expect(try anonymous.get(try #require(consolePath)).status == 404)
        #expect(try anonymous.get(newPath).status == 200)
        let audit = try d.ctl("audit", "list", "--limit", "20").stdout
        #expect(
            audit.contains("expert.feed_reset") && !audit.contains(String(newPath.dropFirst(7).prefix(32))), "\(audit)")

        // After a restart the address still answers.
        #expect(d.stop() == 0)
        try d.start()
        var port: String?
        for _ in 0..<500 {
            let found = d.log().matches(of: #/http://127\.0\.0\.1:([0-9]+)/#)
            // The log starts afresh with each start.
            if let last = found.last, last.1 != "0" {
                port = String(last.1)
                break
            }
            usleep(20_000)
        }
        let restarted = ConsoleHTTPEndToEndTests.Browser(
            base: "http://127.0.0.1:\(try #require(port))",
            folder: FileManager.default.temporaryDirectory.appendingPathComponent("feed-\(UUID())"))
        #expect(try restarted.get(newPath).status == 200)
        let again = try #require(try d.json("expert", "feed", String(expert)) as? [String: Any])
        #expect(again["path"] as? String == newPath, "\(again)")
        #expect(d.stop() == 0)
    }

    /// Without the web listener there is nothing to serve a feed: said, with what to set.
    @Test func withoutTheWebListenerTheFeedIsRefusedWithWhatToSet() throws {
        let d = try DaemonUnderTest(extraYAML: "web:\n  listen: off")
        try d.start()
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        let refused = try d.ctl("expert", "feed", "陈志远")
        #expect(refused.status != 0 && refused.stderr.contains("set web.listen"), "\(refused)")
        #expect(d.stop() == 0)
    }
}
