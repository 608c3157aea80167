import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Outcomes, follow-up visits, escalations, warnings, reports and exports through the real binaries.
@Suite(.serialized)
struct OutcomeEndToEndTests {
    let sessions = SessionEndToEndTests()

    /// The day of `date` (plus `offset` days) in Asia/Shanghai, `2026-12-14`.
    func day(_ date: Date, plus offset: Int = 0) -> String { shanghaiDay(date, plus: offset) }

    /// Today in Asia/Shanghai by the real clock (the day disputes opened before the daemon's clock moved).
    func today(_ offset: Int = 0) -> String { day(Date(), plus: offset) }

    /// Whole days from one `2026-12-14` to another.
    func days(from a: String, to b: String) -> Int {
        let f = DateFormatter()
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd"
        guard let x = f.date(from: a), let y = f.date(from: b) else { return .min }
        return Int((y.timeIntervalSince(x) / 86400).rounded())
    }

    func book(_ d: DaemonUnderTest, _ dispute: String) throws -> Int {
        _ = try sessions.find(d, dispute)
        let booked = try #require(try d.json("session", "book", dispute, "--option", "1") as? [String: Any])
        return try #require(booked["id"] as? Int)
    }

    @Test func outcomesVisitsEscalationsWarningsReportsAndExportsSurviveARestart() throws {
        let d = try DaemonUnderTest(movableClock: true)
        try d.start()
        let disputes = try sessions.setUp(d, disputes: 3)
        let first = try book(d, disputes[0])
        let later = try book(d, disputes[1])

        // Bad outcomes: unknown code, a session not ended, nothing written.
        let unknown = try d.ctl("outcome", "record", String(first), "settled")
        #expect(unknown.status == 2 && unknown.stderr.contains("is unknown"), "\(unknown)")
        let early = try d.ctl("outcome", "record", String(later), "agreement", "--terms", "x")
        #expect(early.status == 2 && early.stderr.contains("has not ended"), "\(early)")
        #expect(try d.ctl("outcome", "show", String(later)).status == 2)
        let badAmount = try d.ctl("outcome", "record", String(first), "agreement", "--terms", "x", "--amount", "12.345")
        #expect(badAmount.status == 2, "\(badAmount)")

        // On the session's day: held, its outcome recorded then (so "today" below is the day it was held).
        try d.moveClock(toSession: first)
        let firstStart = try d.sessionStart(first)
        let heldOn = day(firstStart)
        #expect(try d.ctl("session", "start", String(first)).status == 0)
        #expect(try d.ctl("session", "end", String(first)).status == 0)
        let recorded = try #require(
            try d.json(
                "outcome", "record", String(first), "agreement", "--terms", "王某赔偿医药费 1200.50 元，三日内付清",
                "--amount", "1200.50", "--signed") as? [String: Any])
        #expect(recorded["disputeStatus"] as? String == "resolved")
        #expect((recorded["outcome"] as? [String: Any])?["amountFen"] as? Int == 120_050)
        let planned = try #require(recorded["followUps"] as? [[String: Any]])
        #expect(planned.map { $0["offsetDays"] as? Int } == [3, 30])
        let again = try d.ctl("outcome", "record", String(first), "no_agreement")
        #expect(again.status == 2 && again.stderr.contains("already has an outcome"), "\(again)")

        // Follow-up visits: listed, refused more than a day ahead, unknown result codes refused.
        let visits = try #require(
            (try d.json("followup", "list", "--all") as? [String: Any])?["followUps"] as? [[String: Any]])
        #expect(visits.count == 2)
        let visit = try #require(visits.first?["id"] as? Int)
        let ahead = try d.ctl("followup", "record", String(visit), "stable")
        #expect(ahead.status == 2 && ahead.stderr.contains("more than a day ahead"), "\(ahead)")
        #expect(try d.ctl("followup", "record", String(visit), "fine").status == 2)
        let due = try d.ctl("followup", "list")
        #expect(due.status == 0 && due.stdout.contains("0 visit(s)"), "\(due)")
        // The reminders wait in the outbox for 08:00 on the visit's day.
        let outbox = try #require(
            (try d.json("outbox", "list", "--session", String(first)) as? [String: Any])?["messages"]
                as? [[String: Any]])
        #expect(outbox.filter { $0["kind"] as? String == "followup" }.count >= 2)

        // An escalation makes the dispute critical and counts in the weekly review.
        let noCase = try d.ctl("escalation", "add", disputes[0], "criminal")
        #expect(noCase.status == 2 && noCase.stderr.contains("case reference"), "\(noCase)")
        #expect(try d.ctl("escalation", "add", disputes[0], "riot").status == 2)
        let escalation = try #require(
            try d.json("escalation", "add", disputes[0], "criminal", "--case", "金公立字(2026)118号") as? [String: Any])
        #expect(escalation["disputeRisk"] as? String == "critical")
        let escalatedOn = try #require(escalation["occurredOn"] as? String)
        #expect(escalatedOn == heldOn, "recorded today, by the daemon's clock")

        // The first visit is made on its day, three days after the agreement: left undone, the daemon's warning timer
        // (on the moved clock) would raise it as overdue once the clock moves on to the no-shows below.
        try d.setClock(to: d.now.addingTimeInterval(3 * 86400))
        #expect(days(from: heldOn, to: day(d.now)) == 3)
        let made = try d.ctl("followup", "record", String(visit), "stable", "--notes", "协议已履行")
        #expect(made.status == 0, "\(made)")

        // Two no-shows raise one warning, once (each marked at its start).
        let third = try book(d, disputes[2])
        try d.moveClock(toSession: third)
        #expect(try d.ctl("session", "no-show", String(third)).status == 0)
        let fourth = try book(d, disputes[2])
        try d.moveClock(toSession: fourth)
        #expect(try d.ctl("session", "no-show", String(fourth)).status == 0)
        // Whoever checks first raises it: `warning check`, or the daemon's own timer, which runs on the moved clock
        // and may wake when the clock jumps to the second no-show. Either way it is raised once, and only once.
        let raised = try #require((try d.json("warning", "check") as? [String: Any])?["warnings"] as? [[String: Any]])
        #expect(raised.map { $0["rule"] as? String } == ["no_shows"] || raised.isEmpty, "\(raised)")
        let twice = try #require((try d.json("warning", "check") as? [String: Any])?["warnings"] as? [[String: Any]])
        #expect(twice.isEmpty)
        let stored = try #require((try d.json("warning", "list") as? [String: Any])?["warnings"] as? [[String: Any]])
        #expect(stored.map { $0["rule"] as? String } == ["no_shows"], "\(stored)")
        // The embedded default's duty channel is mail to the maildir spool: one file, and one log line.
        #expect(stored.count == 1 && stored.first?["channel"] as? String == "maildir")
        let spool = d.dir.appendingPathComponent("state/outbox/new")
        let warningMail = try FileManager.default.contentsOfDirectory(atPath: spool.path).filter {
            $0.hasPrefix("warning-")
        }
        #expect(warningMail.count == 1, "\(warningMail)")
        #expect(d.log().components(separatedBy: "early warning").count == 2, "logged once")

        // Reports: tables, JSON, CSV, HTML; bad weeks and ranges refused.
        // This week by the daemon's clock, which stands at the fourth session's start: the escalation was that many
        // days ago.
        let since = days(from: escalatedOn, to: day(d.now))
        let weekly = try d.ctl("report", "weekly")
        #expect(
            weekly.status == 0 && weekly.stdout.contains("距上次矛盾升级") && weekly.stdout.contains("已 \(since) 天"),
            "\(weekly)")
        for bad in ["2026-49", "W49", "2026-W54"] {
            let r = try d.ctl("report", "weekly", "--week", bad)
            #expect(r.status == 2 && r.stderr.contains("not an ISO week"), "\(bad): \(r)")
        }
        let backwards = try d.ctl("report", "outcomes", "--from", "2026-12-31", "--to", "2026-10-01")
        #expect(backwards.status == 2 && backwards.stderr.contains("is after"), "\(backwards)")
        let outcomes = try #require(
            try d.json(
                "report", "outcomes", "--from", day(firstStart, plus: -1), "--to", day(firstStart, plus: 1), "--by",
                "office") as? [String: Any])
        let total = try #require(outcomes["total"] as? [String: Any])
        #expect(total["outcomes"] as? Int == 1 && total["agreements"] as? Int == 1 && total["escalations"] as? Int == 1)
        let html = d.dir.appendingPathComponent("weekly.html").path
        #expect(try d.ctl("report", "weekly", "--office", "jinshan", "--html", "-o", html).status == 0)
        let page = try Data(contentsOf: URL(fileURLWithPath: html))
        #expect(XMLParser(data: page).parse(), "the HTML is well-formed XML")
        #expect(String(decoding: page, as: UTF8.self).contains("<svg"))
        let expertsCSV = d.dir.appendingPathComponent("experts.csv").path
        let experts = try d.ctl("report", "experts", "--from", today(-7), "--to", today(30), "--csv", "-o", expertsCSV)
        #expect(experts.status == 0, "\(experts)")
        let expertBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: expertsCSV)))
        #expect(expertBytes.prefix(3) == [0xEF, 0xBB, 0xBF])
        #expect(String(decoding: expertBytes, as: UTF8.self).contains("基尼系数 Gini"))

        // Exports: UTF-8 with a BOM.
        let csv = d.dir.appendingPathComponent("outcomes.csv").path
        #expect(
            try d.ctl(
                "export", "outcomes", "--from", day(firstStart, plus: -1), "--to", day(firstStart, plus: 1), "--csv",
                "-o", csv
            ).status == 0)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: csv)))
        #expect(bytes.prefix(3) == [0xEF, 0xBB, 0xBF])
        #expect(String(decoding: bytes, as: UTF8.self).contains("1200.50"))
        let exported = try d.ctl("export", "disputes", "--from", today(-1), "--to", today(1))
        #expect(disputes.allSatisfy { exported.stdout.contains($0) }, "\(exported)")
        #expect(try d.ctl("export", "sessions", "--from", today(1), "--to", today(-1)).status == 2)

        // A restart keeps everything.
        #expect(d.stop() == 0)
        try d.start()
        let kept = try #require(try d.json("outcome", "show", String(first)) as? [String: Any])
        #expect(kept["amount"] as? String == "1200.50" && kept["signed"] as? Bool == true)
        #expect(((try d.json("followup", "list", "--all") as? [String: Any])?["followUps"] as? [Any])?.count == 2)
        #expect(((try d.json("escalation", "list") as? [String: Any])?["escalations"] as? [Any])?.count == 1)
        #expect(((try d.json("warning", "list") as? [String: Any])?["warnings"] as? [Any])?.count == 1)
    }

    @Test func everyNewCommandExplainsItselfWithAnExample() throws {
        let commands = [
            ["outcome", "record"], ["outcome", "show"], ["outcome", "amend"], ["outcome", "void"],
            ["followup", "list"],
            ["followup", "record"],
            ["escalation", "add"], ["escalation", "list"], ["warning", "list"], ["warning", "check"],
            ["report", "weekly"], ["report", "outcomes"], ["report", "experts"], ["export", "disputes"],
            ["export", "sessions"], ["export", "outcomes"],
        ]
        for c in commands {
            let help = try runProgram(Repo.ctl, c + ["--help"])
            #expect(help.status == 0 && help.stdout.contains("Example"), "\(c): \(help)")
        }
    }
}
