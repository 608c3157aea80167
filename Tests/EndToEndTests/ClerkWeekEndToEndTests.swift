import Foundation
import Testing

/// What a clerk meets in a week (issue 14, items 9, 10, 14, 15, 18, 19 and 21), through the real binaries.
@Suite(.serialized)
struct ClerkWeekEndToEndTests {
    let sessions = SessionEndToEndTests()

    /// A booked session on the first dispute: (dispute, session id, start as the API shows it, panel ids).
    func booked(_ d: DaemonUnderTest) throws -> (String, Int, String, [Int]) {
        let disputes = try sessions.setUp(d, disputes: 2)
        _ = try sessions.find(d, disputes[0])
        let session = try #require(try d.json("session", "book", disputes[0], "--option", "1") as? [String: Any])
        let panel = try #require(session["panel"] as? [[String: Any]]).compactMap { $0["expert"] as? Int }
        return (
            disputes[0], try #require(session["id"] as? Int), try #require(session["start"] as? String), panel
        )
    }

    /// Today's date in Shanghai, `2026-12-07`.
    func todayInShanghai() -> String { shanghaiDay(Date()) }

    // MARK: Item 9

    @Test func leaveOrDeactivationOfABookedMemberNamesTheSessionAndTheReplaceCommand() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let (dispute, session, start, panel) = try booked(d)
        let day = String(start.prefix(10))
        let member = String(panel[1])

        // Leave over the session's day: the answer names the session, its time in the office's zone, and the
        // command that replaces the member.
        let leave = try d.ctl("expert", "leave", "add", member, "--from", day, "--to", day, "--reason", "出差")
        #expect(leave.status == 0, "\(leave)")
        #expect(leave.stderr.contains("warning: "), "\(leave)")
        #expect(leave.stderr.contains("sits on the panel of session #\(session) for \(dispute) at \(start)"))
        #expect(leave.stderr.contains("this leave covers it"), "\(leave)")
        let command = "session replace \(session) \(member)"
        #expect(leave.stderr.contains("'\(command)'"), "\(leave)")
        // The printed command runs: it lists the substitutes.
        let replace = try d.ctl(args: command.split(separator: " ").map(String.init))
        #expect(replace.status == 0, "\(replace)")
        // --json carries the same as `warnings`.
        let json = try #require(
            try d.json("expert", "leave", "add", member, "--from", "\(day) 00:00", "--to", "\(day) 23:00")
                as? [String: Any])
        let warnings = try #require(json["warnings"] as? [String])
        #expect(warnings.count == 1 && warnings[0].contains("session #\(session)"), "\(json)")
        // Leave on another day says nothing.
        let other = try d.ctl("expert", "leave", "add", member, "--from", "2099-01-05", "--to", "2099-01-05")
        #expect(other.status == 0 && !other.stderr.contains("warning"), "\(other)")
        let quiet = try #require(
            try d.json("expert", "leave", "add", member, "--from", "2099-01-06", "--to", "2099-01-06")
                as? [String: Any])
        #expect(quiet["warnings"] == nil)

        // Deactivating a seated member says the same, with why.
        let seated = String(panel[2])
        let deactivated = try d.ctl("expert", "deactivate", seated)
        #expect(deactivated.status == 0, "\(deactivated)")
        #expect(
            deactivated.stderr.contains("sits on the panel of session #\(session)")
                && deactivated.stderr.contains("an inactive expert stays on a panel until replaced")
                && deactivated.stderr.contains("'session replace \(session) \(seated)'"), "\(deactivated)")
        // An expert on no panel goes quietly; --json has no warnings.
        let free = try #require(try d.json("expert", "deactivate", "林晓雯") as? [String: Any])
        #expect(free["warnings"] == nil && free["active"] as? Bool == false, "\(free)")
    }

    // MARK: Item 10, and party names

    @Test func aPartyEnteredTwiceIsRefusedNamingTheOneThere() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let dispute = try sessions.setUp(d, disputes: 1)[0]
        let add = ["party", "add", dispute, "--name", "李明", "--side", "申请人", "--mobile", "13700000001"]
        #expect(try d.ctl(args: add).status == 0)
        // The same name and mobile, however the mobile is written: 409, naming the party, the mobile masked.
        let twice = try d.ctl(args: Array(add.dropLast()) + ["137-0000-0001"])
        refused(twice, "already has 李明 (party #1, applicant, 137****0001) with the same name and mobile")
        #expect(!twice.stderr.contains("13700000001"))
        let byCurl = try d.curl([
            "-X", "POST", "-H", "Content-Type: application/json", "--data",
            #"{"name": "李明", "side": "applicant", "mobile": "13700000001"}"#,
            "http://localhost/v1/disputes/\(dispute)/parties",
        ])
        #expect(byCurl.0 == 409, "\(byCurl)")
        // Without a mobile twice is the same person too; another mobile is another person.
        #expect(try d.ctl("party", "add", dispute, "--name", "王强", "--side", "respondent").status == 0)
        refused(try d.ctl("party", "add", dispute, "--name", "王强", "--side", "other"), "already has 王强 (party #2")
        #expect(
            try d.ctl("party", "add", dispute, "--name", "王强", "--side", "other", "--mobile", "13700000009").status
                == 0)
        // An update that would make two of one is refused the same way.
        refused(try d.ctl("party", "update", dispute, "3", "--mobile", "13700000001", "--name", "李明"), "party #1")
        let parties = try #require(
            (try d.json("dispute", "show", dispute) as? [String: Any])?["parties"] as? [[String: Any]])
        #expect(parties.count == 3)

        // A party by its name; a name one character off is answered with the name meant.
        let renamed = try d.ctl("party", "update", dispute, "李明", "--language", "上海话")
        #expect(renamed.status == 0, "\(renamed)")
        refused(try d.ctl("party", "update", dispute, "李民", "--language", "上海话"), "did you mean 李明?")
        refused(try d.ctl("party", "remove", dispute, "王强"), "2 parties of \(dispute) are named 王强")
        #expect(try d.ctl("party", "remove", dispute, "#3").status == 0)
        #expect(try d.ctl("party", "remove", dispute, "王强").status == 0)
        // Experts the same: one character substituted, dropped or added.
        refused(try d.ctl("expert", "show", "陈志元"), "no expert '陈志元'; did you mean 陈志远?")
        refused(try d.ctl("expert", "leave", "add", "陈志", "--from", "2099-01-05", "--to", "2099-01-05"), "陈志远")
        refused(try d.ctl("expert", "show", "陈志远远"), "did you mean 陈志远?")
        let far = try d.ctl("expert", "show", "欧阳修")
        #expect(far.status == 2 && !far.stderr.contains("did you mean"), "\(far)")
    }

    // MARK: Item 14

    @Test func timesInMessagesAreInTheOfficesZoneWithTheirOffset() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let (_, session, start, panel) = try booked(d)
        let future = try d.ctl(
            "dispute", "open", "--office", "jinshan", "--title", "未来的纠纷", "--category", "noise", "--occurred",
            "2099-12-24 16:00")
        refused(future, "(2099-12-24T16:00:00+08:00) is in the future")
        #expect(!future.stderr.contains("Z)"), "\(future)")
        let same = try d.ctl("session", "reschedule", String(session), "--to", start)
        refused(same, "already starts at \(start)")
        // The audit trail too: a leave in the expert's zone, a booking in the office's.
        #expect(
            try d.ctl("expert", "leave", "add", String(panel[0]), "--from", "2099-01-05", "--to", "2099-01-05").status
                == 0)
        let audit = try d.ctl("audit", "list", "--target", "expert \(panel[0])")
        #expect(audit.stdout.contains("2099-01-05T00:00:00+08:00 – 2099-01-06T00:00:00+08:00"), "\(audit)")
        let booking = try d.ctl("audit", "list", "--target", "session \(session)")
        #expect(booking.stdout.contains("at \(start)"), "\(booking)")
        // Status: every time with its offset, never a bare Z.
        let status = try #require(try d.json("status") as? [String: Any])
        let started = try #require(status["startedAt"] as? String)
        #expect(started.hasSuffix("+08:00") && started.count == 25, "to the second, with its offset: \(started)")
        let shown = try d.ctl("status")
        #expect(shown.status == 0 && shown.stdout.contains("+08:00") && !shown.stdout.contains("Z)"), "\(shown)")
    }

    // MARK: Item 15

    @Test func messagesThatMisledNoLonger() throws {
        let d = try DaemonUnderTest(movableClock: true)
        try d.start()
        let (dispute, session, _, panel) = try booked(d)
        let disputes = try #require(
            (try d.json("dispute", "list") as? [String: Any])?["disputes"] as? [[String: Any]]
        ).compactMap { $0["number"] as? String }
        let other = try #require(disputes.first { $0 != dispute })

        // A search that found nothing: booking an option says so, not "give --option 1 to 1".
        let sunday = mondayAfterNext(plus: 6).1
        let nothing = try d.ctl("session", "find", other, "--from", sunday, "--to", sunday)
        #expect(nothing.status == 0 && nothing.stdout.contains("nothing fits"), "\(nothing)")
        let book = try d.ctl("session", "book", other, "--option", "1")
        refused(book, "the last search for \(other) found no option to book")
        #expect(!book.stderr.contains("--option 1 to 1"), "\(book)")

        // Experts never asked have no acceptance rate; the panel's have one.
        let (from, to) = mondayAfterNext(plus: 13)
        let report = try d.ctl("report", "experts", "--from", from, "--to", to)
        #expect(report.status == 0, "\(report)")
        let never = try #require(report.stdout.split(separator: "\n").first { $0.contains("林晓雯") })
        #expect(never.hasSuffix("—") && !never.contains("0.0%"), "\(never)")
        let asked = try #require(report.stdout.split(separator: "\n").first { $0.contains("(#\(panel[0]))") })
        #expect(asked.hasSuffix("0.0%"), "\(asked)")

        // An agreement says the dispute's new state once (the session held at its time).
        try d.moveClock(toSession: session)
        #expect(try d.ctl("session", "start", String(session)).status == 0)
        #expect(try d.ctl("session", "end", String(session)).status == 0)
        let recorded = try d.ctl("outcome", "record", String(session), "agreement", "--terms", "赔偿 100 元")
        #expect(recorded.status == 0, "\(recorded)")
        #expect(recorded.stdout.contains("is now resolved; 2 follow-up visit(s) planned"), "\(recorded)")
        #expect(!recorded.stdout.contains("dispute resolved"), "\(recorded)")

        // extra add takes --reason like leave add; --note, its old name, still works.
        let expert = String(panel[0])
        let reason = try #require(
            try d.json(
                "expert", "extra", "add", expert, "--from", "2099-01-10 09:00", "--to", "2099-01-10 12:00",
                "--reason", "周六加班") as? [String: Any])
        #expect(reason["note"] as? String == "周六加班")
        let note = try #require(
            try d.json(
                "expert", "extra", "add", expert, "--from", "2099-01-11 09:00", "--to", "2099-01-11 12:00",
                "--note", "旧脚本") as? [String: Any])
        #expect(note["note"] as? String == "旧脚本")
        #expect(try d.ctl("expert", "extra", "list", expert).stdout.contains("REASON"))
    }

    // MARK: Item 18

    @Test func optionsAreSpreadUnlessEveryStartIsAskedFor() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let dispute = try sessions.setUp(d, disputes: 1)[0]
        /// (office-local date and half-day, panel) of each option.
        func keys(_ found: [String: Any]) throws -> [String] {
            try #require(found["options"] as? [[String: Any]]).map { o in
                let start = o["start"] as? String ?? ""
                let hour = Int(start.dropFirst(11).prefix(2)) ?? 0
                let panel = (o["panel"] as? [[String: Any]] ?? []).compactMap { $0["expert"] as? Int }.sorted()
                return "\(start.prefix(10)) \(hour < 12 ? "am" : "pm") \(panel)"
            }
        }
        // The sample roster's jinshan panel is free on a few half-days of the fortnight: each is offered once.
        let spread = try keys(try sessions.find(d, dispute, "--options", "8"))
        #expect(spread.count >= 3, "\(spread)")
        #expect(Set(spread).count == spread.count, "two options on one half-day with the same panel: \(spread)")
        let every = try #require(try sessions.find(d, dispute, "--every")["options"] as? [[String: Any]])
        let everyKeys = try keys(["options": every])
        #expect(everyKeys.count == 5 && Set(everyKeys).count < everyKeys.count, "\(everyKeys)")
        // The table says how to book, and what --every is for.
        let (from, to) = mondayAfterNext(plus: 11)
        let table = try d.ctl("session", "find", dispute, "--from", from, "--to", to)
        #expect(table.status == 0 && table.stdout.contains("[\(spread.count)]"), "\(table)")
        #expect(table.stdout.contains("book one with: mediationctl session book \(dispute) --option N"), "\(table)")
        #expect(try d.ctl("session", "find", "--help").stdout.contains("--every"))
        // The API takes `every` as the CLI sends it.
        let api = try d.curl([
            "-X", "POST", "-H", "Content-Type: application/json", "--data",
            #"{"from": "\#(from)", "to": "\#(to)", "every": true, "options": 3}"#,
            "http://localhost/v1/disputes/\(dispute)/slots",
        ])
        #expect(api.0 == 200, "\(api)")
    }

    // MARK: Item 19

    @Test func datesAsPeopleTypeThemAndAmbiguousOnesRefused() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let dispute = try sessions.setUp(d, disputes: 1)[0]
        let (monday, sunday) = mondayAfterNext(plus: 11)
        let parts = monday.split(separator: "-").compactMap { Int($0) }
        let (y, m, day) = (parts[0], parts[1], parts[2])
        // 2026/12/14 and 12月25日 (the year nearest today) read as the ISO dates do.
        let iso = try #require(try sessions.find(d, dispute)["options"] as? [[String: Any]])
        let endParts = sunday.split(separator: "-").compactMap { Int($0) }
        let typed = try #require(
            try d.json(
                "session", "find", dispute, "--from", "\(y)/\(m)/\(day)", "--to", "\(endParts[1])月\(endParts[2])日")
                as? [String: Any])
        #expect(
            (typed["options"] as? [[String: Any]])?.compactMap { $0["start"] as? String }
                == iso.compactMap { $0["start"] as? String })
        // The notice's own form, with its weekday, and 2026-12-9 with one digit.
        let leave = try #require(
            try d.json(
                "expert", "leave", "add", "陈志远", "--from", "\(y)年\(m)月\(day)日 周一 09:00", "--to",
                "\(y)-\(m)-\(day) 12:00")
                as? [String: Any])
        #expect(leave["start"] as? String == "\(monday)T09:00:00+08:00", "\(leave)")
        #expect(leave["end"] as? String == "\(monday)T12:00:00+08:00", "\(leave)")
        // A time alone is today, in the expert's zone.
        let before = todayInShanghai()
        let today = try #require(
            try d.json("expert", "extra", "add", "陈志远", "--from", "14:30", "--to", "23:59", "--reason", "今天")
                as? [String: Any])
        let after = todayInShanghai()
        let start = try #require(today["start"] as? String)
        #expect(start == "\(before)T14:30:00+08:00" || start == "\(after)T14:30:00+08:00", "\(start)")
        // Ambiguous: refused, with the accepted forms; nothing written.
        let spans = try #require(
            (try d.json("expert", "leave", "list", "陈志远") as? [String: Any])?["spans"] as? [Any]
        ).count
        let ambiguous = try d.ctl("expert", "leave", "add", "陈志远", "--from", "12/9", "--to", "12/10")
        refused(ambiguous, "'12/9' is ambiguous")
        #expect(ambiguous.stderr.contains("2026/12/9 14:30") && ambiguous.stderr.contains("14:30 (today)"))
        let weekday = try d.ctl(
            "expert", "leave", "add", "陈志远", "--from", "\(y)年\(m)月\(day)日 周二", "--to", "\(y)/\(m)/\(day)")
        refused(weekday, "is a 周一, not the weekday written")
        let unchanged = try #require(
            (try d.json("expert", "leave", "list", "陈志远") as? [String: Any])?["spans"] as? [Any])
        #expect(unchanged.count == spans)
        // Days for reports read the same way.
        #expect(try d.ctl("report", "outcomes", "--from", "\(y)/\(m)/\(day)", "--to", "\(y)年\(m)月\(day)日").status == 0)
    }

    // MARK: Item 21

    @Test func theCaseFileAndTheWeekShowWhatHappened() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let (dispute, session, start, panel) = try booked(d)
        #expect(
            try d.ctl(
                "party", "add", dispute, "--name", "孙八", "--side", "other", "--organisation", "孙氏公司", "--mobile",
                "13700000008"
            ).status == 0)
        #expect(try d.ctl("conflict", "add", String(panel[2]), "--organisation", "孙氏公司", "--reason", "顾问").status == 0)
        #expect(try d.ctl("escalation", "add", dispute, "petition", "--notes", "到街道信访").status == 0)
        let names = try #require(
            (try d.json("session", "show", String(session)) as? [String: Any])?["panel"] as? [[String: Any]]
        ).compactMap { $0["name"] as? String }

        let shown = try d.ctl("dispute", "show", dispute)
        #expect(shown.status == 0, "\(shown)")
        let out = shown.stdout
        #expect(out.contains("sessions:") && out.contains("#\(session)") && out.contains(start), "\(out)")
        #expect(names.allSatisfy { out.contains($0) }, "the panel: \(out)")
        #expect(out.contains("booked"))
        #expect(out.contains("outcomes: none") && out.contains("follow-up visits: none"), "\(out)")
        #expect(out.contains("escalations:") && out.contains("petition") && out.contains("到街道信访"), "\(out)")
        #expect(out.contains("conflicts of interest:") && out.contains("孙氏公司") && out.contains("顾问"), "\(out)")
        // Parties stay masked.
        #expect(out.contains("137****0008") && !out.contains("13700000008"), "\(out)")
        let file = try #require(
            (try d.json("dispute", "show", dispute) as? [String: Any])?["caseFile"] as? [String: Any])
        #expect((file["sessions"] as? [Any])?.count == 1 && (file["escalations"] as? [Any])?.count == 1)
        #expect((file["conflicts"] as? [[String: Any]])?.first?["expertName"] as? String != nil)

        // The week: each session's title, office and panel, not only its number.
        let week = try ConsoleWeekEndToEndTests.isoWeek(String(start.prefix(10)))
        let agenda = try d.ctl("session", "week", "--office", "jinshan", "--week", week)
        #expect(agenda.status == 0, "\(agenda)")
        #expect(agenda.stdout.contains("纠纷 0") && agenda.stdout.contains("jinshan"), "\(agenda)")
        #expect(names.allSatisfy { agenda.stdout.contains($0) }, "\(agenda)")
    }
}
