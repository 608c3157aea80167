import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Finding, booking and following sessions through the real binaries.
@Suite(.serialized)
struct SessionEndToEndTests {
    func setUp(_ d: DaemonUnderTest, disputes: Int) throws -> [String] {
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        return try (0..<disputes).map { i in
            let r = try d.json("dispute", "open", "--office", "jinshan", "--title", "纠纷 \(i)", "--category", "noise")
            return try #require(((r as? [String: Any])?["dispute"] as? [String: Any])?["number"] as? String)
        }
    }

    func find(_ d: DaemonUnderTest, _ dispute: String, _ args: String...) throws -> [String: Any] {
        let (from, to) = mondayAfterNext(plus: 11)
        return try #require(
            try d.json(args: ["session", "find", dispute, "--from", from, "--to", to] + args) as? [String: Any])
    }

    @Test func eightClientsRaceForTheSameExpertsAndExactlyOneWinsEachSlot() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let disputes = try setUp(d, disputes: 16)
        let found = try find(d, disputes[0], "--options", "5")
        let options = try #require(found["options"] as? [[String: Any]])
        // Two slots far enough apart that one panel can sit in both.
        let first = try #require(options.first)
        let panel = try #require(first["panel"] as? [[String: Any]]).compactMap { $0["expert"] as? Int }.map(
            String.init)
        #expect(panel.count == 3)
        let later = try #require(
            try find(d, disputes[0], "--options", "20").self["options"] as? [[String: Any]]
        ).last { ($0["start"] as? String ?? "").prefix(10) != (first["start"] as? String ?? "").prefix(10) }
        let slots = [try #require(first["start"] as? String), try #require(later?["start"] as? String)]
        for (round, start) in slots.enumerated() {
            let racers = disputes[(round * 8)..<(round * 8 + 8)]
            let processes = try racers.map { dispute -> (Process, URL) in
                let out = d.dir.appendingPathComponent("race-\(dispute).txt")
                _ = FileManager.default.createFile(atPath: out.path, contents: nil)
                let p = Process()
                p.executableURL = URL(fileURLWithPath: Repo.ctl)
                p.arguments =
                    ["--socket", d.socket, "session", "book", dispute, "--at", start]
                    + panel.flatMap { ["--panel", $0] }
                let handle = try FileHandle(forWritingTo: out)
                p.standardOutput = handle
                p.standardError = handle
                return (p, out)
            }
            for (p, _) in processes { try p.run() }
            for (p, _) in processes { p.waitUntilExit() }
            let winners = processes.filter { $0.0.terminationStatus == 0 }
            let losers = processes.filter { $0.0.terminationStatus != 0 }
            #expect(winners.count == 1, "round \(round): exactly one booking wins")
            #expect(losers.count == 7)
            for (p, out) in losers {
                let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
                #expect(p.terminationStatus == 2, "409 is exit 2: \(text)")
                #expect(text.contains("is already booked for session #"), "the loser hears the conflict: \(text)")
            }
        }
        let sessions = try #require(try d.json("session", "list", "--status", "booked") as? [String: Any])
        let list = try #require(sessions["sessions"] as? [[String: Any]])
        #expect(list.count == 2)
        // No expert sits in two overlapping sessions.
        #expect(Set(list.compactMap { $0["start"] as? String }).count == 2)

        // Data survives a restart.
        #expect(d.stop() == 0)
        try d.start()
        let again = try #require(try d.json("session", "list") as? [String: Any])
        #expect((again["sessions"] as? [Any])?.count == 2)
    }

    @Test func aSessionIsFollowedThroughAndTheDisputeFollowsIt() throws {
        let d = try DaemonUnderTest(movableClock: true)
        try d.start()
        let disputes = try setUp(d, disputes: 2)
        let dispute = disputes[0]
        let found = try find(d, dispute)
        #expect((found["options"] as? [Any])?.isEmpty == false, "\(found)")
        let booked = try d.ctl("session", "book", dispute, "--option", "1")
        #expect(booked.status == 0, "\(booked)")
        #expect(booked.stdout.contains("lead"), "the legal officer leads: \(booked)")
        let detail = try #require(try d.json("dispute", "show", dispute) as? [String: Any])
        #expect((detail["dispute"] as? [String: Any])?["status"] as? String == "scheduled")
        let second = try d.ctl("session", "book", dispute, "--option", "2")
        #expect(second.status == 2 && second.stderr.contains("already has session #1 booked"), "\(second)")

        // A decline lists substitutes of the same seat; replacing one raises the sequence.
        let session = try #require(try d.json("session", "show", "1") as? [String: Any])
        let panel = try #require(session["panel"] as? [[String: Any]])
        let lawyer = try #require(panel.first { ($0["requirement"] as? String) == "lawyer" }?["expert"] as? Int)
        let rsvp = try #require(try d.json("session", "rsvp", "1", String(lawyer), "declined") as? [String: Any])
        let substitutes = try #require(rsvp["substitutes"] as? [[String: Any]])
        if let substitute = substitutes.first?["expert"] as? Int {
            let replaced = try #require(
                try d.json("session", "replace", "1", String(lawyer), "--with", String(substitute)) as? [String: Any])
            #expect(replaced["sequence"] as? Int == 1)
            #expect((replaced["panel"] as? [[String: Any]])?.contains { $0["expert"] as? Int == substitute } == true)
        }

        let cancelled = try d.ctl("session", "cancel", "1", "--reason", "当事人住院")
        #expect(cancelled.status == 0 && cancelled.stdout.contains("cancelled"), "\(cancelled)")
        let reopened = try #require(try d.json("dispute", "show", dispute) as? [String: Any])
        #expect((reopened["dispute"] as? [String: Any])?["status"] as? String == "open")
        let reschedule = try d.ctl("session", "reschedule", "1", "--to", mondayAfterNext(plus: 11).0 + " 14:00")
        #expect(reschedule.status == 2 && reschedule.stderr.contains("only a booked session can be rescheduled"))
        let start = try d.ctl("session", "start", "1")
        #expect(start.status == 2 && start.stderr.contains("is cancelled; it cannot become in_session"), "\(start)")

        // Book again; on the day, start and end.
        _ = try find(d, dispute)
        #expect(try d.ctl("session", "book", dispute, "--option", "1").status == 0)
        try d.moveClock(toSession: 2)
        #expect(try d.ctl("session", "start", "2").status == 0)
        let inSession = try #require(try d.json("dispute", "show", dispute) as? [String: Any])
        #expect((inSession["dispute"] as? [String: Any])?["status"] as? String == "in_session")
        #expect(try d.ctl("session", "end", "2").status == 0)
        let week = try d.ctl("session", "week", "--office", "jinshan", "--week", "1999-W60")
        #expect(week.status == 2 && week.stderr.contains("is not an ISO week"))
    }

    @Test func panelPoliciesComeFromTheCategoryAndTheRisk() throws {
        let d = try DaemonUnderTest(
            extraYAML: "panels:\n  by_category: [noise=light]\n  legal_officer_from_risk: high\n")
        try d.start()
        let disputes = try setUp(d, disputes: 1)
        #expect(try d.ctl("policy", "set", "light", "--require", "community_staff").status == 0)
        let light = try find(d, disputes[0])
        #expect(light["policy"] as? String == "light")
        #expect(light["requirements"] as? [String] == ["community_staff"])
        #expect(try d.ctl("dispute", "risk", disputes[0], "high", "--reason", "推搡").status == 0)
        let high = try find(d, disputes[0])
        #expect(
            high["requirements"] as? [String] == ["legal_officer", "community_staff"], "high risk adds a legal officer")
        let bad = try DaemonUnderTest(extraYAML: "panels:\n  by_category: [noise]\n")
        let refused = try runProgram(Repo.daemon, ["--config", bad.config])
        #expect(refused.status == 2 && refused.stderr.contains("is not category=policy"), "\(refused)")
    }

    @Test func badSchedulingInputIsRefusedAndNothingWritten() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let disputes = try setUp(d, disputes: 1)
        let dispute = disputes[0]
        let (from, to) = mondayAfterNext(plus: 11)
        let cases: [([String], String)] = [
            (["--from", "2020-01-06", "--to", "2020-01-10"], "in the past"),
            (["--from", to, "--to", from], "ends before it starts"),
            (["--from", from, "--to", to, "--minutes", "0"], "'durationMinutes' is 0; it must be at least 1"),
            (["--from", from, "--to", to, "--minutes", "600"], "'durationMinutes' is 600; it must be at most 480"),
            (["--from", from, "--to", to, "--pin", "nobody-at-all"], "no expert 'nobody-at-all'"),
            (["--from", from, "--to", to, "--policy", "nonesuch"], "no panel policy 'nonesuch'"),
        ]
        for (args, message) in cases {
            let r = try d.ctl(args: ["session", "find", dispute] + args)
            #expect(r.status == 2, "\(args): \(r)")
            #expect(r.stderr.contains(message), "\(args) should say '\(message)': \(r)")
        }
        // An inactive or conflicted expert cannot be pinned.
        #expect(try d.ctl("expert", "deactivate", "王建国").status == 0)
        let inactive = try d.ctl("session", "find", dispute, "--from", from, "--to", to, "--pin", "王建国")
        #expect(inactive.status == 2 && inactive.stderr.contains("王建国"), "\(inactive)")
        #expect(
            try d.ctl("party", "add", dispute, "--name", "王强", "--side", "respondent", "--organisation", "律所").status
                == 0)
        #expect(try d.ctl("conflict", "add", "陈志远", "--organisation", "律所").status == 0)
        let conflicted = try d.ctl("session", "find", dispute, "--from", from, "--to", to, "--pin", "陈志远")
        #expect(conflicted.status == 2 && conflicted.stderr.contains("陈志远"), "\(conflicted)")
        // A panel that breaks the policy: three lawyers for a standard panel.
        let lawyers = try #require(
            (try d.json("expert", "list", "--role", "lawyer", "--active") as? [String: Any])?["experts"]
                as? [[String: Any]]
        ).compactMap { $0["id"] as? Int }.prefix(3).map(String.init)
        let wrong = try d.ctl(
            args: ["session", "book", dispute, "--at", from + " 14:00"] + lawyers.flatMap { ["--panel", $0] })
        #expect(wrong.status == 2, "\(wrong)")
        #expect(try d.ctl("session", "book", dispute, "--option", "9").status == 2)
        let none = try #require(try d.json("session", "list") as? [String: Any])
        #expect((none["sessions"] as? [Any])?.isEmpty == true)
    }
}

/// A command the CLI refuses as bad input (exit 2), saying `message`.
func refused(_ r: Outcome, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == 2, "\(r)", sourceLocation: sourceLocation)
    #expect(r.stderr.contains(message), "should say '\(message)': \(r)", sourceLocation: sourceLocation)
}

/// Changes a tired clerk might make that would do harm or say nothing useful: each is refused with what to do, and
/// nothing is written; the ones that should happen do, with their notices and a true audit trail.
@Suite(.serialized)
struct SessionCorrectionEndToEndTests {
    func messages(_ d: DaemonUnderTest) throws -> [[String: Any]] {
        try #require((try d.json("outbox", "list") as? [String: Any])?["messages"] as? [[String: Any]])
    }

    @Test func harmfulOrEmptyChangesAreRefusedAndUsefulOnesNotifyAndAudit() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let disputes = try SessionEndToEndTests().setUp(d, disputes: 3)
        let (from, to) = mondayAfterNext(plus: 11)
        let found = try SessionEndToEndTests().find(d, disputes[0])
        let option = try #require((found["options"] as? [[String: Any]])?.first)
        let start = try #require(option["start"] as? String)
        let panel = try #require(option["panel"] as? [[String: Any]]).compactMap { $0["expert"] as? Int }
        #expect(panel.count == 3)

        // An option keeps its search's length and policy.
        refused(try d.ctl("session", "book", disputes[0], "--option", "1", "--minutes", "60"), "--option keeps")
        let mixed = try d.curl([
            "-X", "POST", "http://localhost/v1/sessions", "-H", "Content-Type: application/json", "-d",
            #"{"dispute":"\#(disputes[0])","option":1,"durationMinutes":60,"policy":"nope"}"#,
        ])
        // Each field as the contract writes it; together they break a rule: 422.
        #expect(mixed.0 == 422 && mixed.1.contains("keeps the length and policy"), "\(mixed)")
        let outside = try d.curl([
            "-X", "POST", "http://localhost/v1/sessions", "-H", "Content-Type: application/json", "-d",
            #"{"dispute":"\#(disputes[0])","option":1,"durationMinutes":481}"#,
        ])
        #expect(outside.0 == 400 && outside.1.contains("field 'durationMinutes' is 481; it must be at most 480"))
        #expect(try d.ctl("session", "book", disputes[0], "--option", "1").status == 0)

        // Moving a session to where it is, or seating someone in their own chair or twice, changes nothing.
        refused(try d.ctl("session", "reschedule", "1", "--to", start), "already starts at")
        refused(
            try d.ctl("session", "replace", "1", String(panel[1]), "--with", String(panel[1])),
            "would replace themselves")
        refused(
            try d.ctl("session", "replace", "1", String(panel[1]), "--with", String(panel[2])),
            "is already on the panel of session #1")
        let unchanged = try #require(try d.json("session", "show", "1") as? [String: Any])
        #expect(unchanged["sequence"] as? Int == 0, "\(unchanged)")

        // A party added after the booking hears of it like the others; a removed one's messages are skipped.
        let before = try messages(d).count
        let added = try #require(
            try d.json("party", "add", disputes[0], "--name", "吴九", "--side", "other", "--email", "wu@example.org")
                as? [String: Any])
        let party = try #require(added["id"] as? Int)
        let theirs = try messages(d).filter {
            $0["recipientKind"] as? String == "party" && $0["recipientId"] as? Int == party
        }
        #expect(theirs.contains { $0["kind"] as? String == "notice" }, "\(theirs)")
        #expect(theirs.filter { $0["kind"] as? String == "reminder" }.count == 2, "\(theirs)")
        #expect(try messages(d).count == before + theirs.count)
        #expect(try d.ctl("party", "remove", disputes[0], String(party)).status == 0)
        let skipped = try messages(d).filter {
            $0["recipientKind"] as? String == "party" && $0["recipientId"] as? Int == party
                && $0["kind"] as? String == "reminder"
        }
        #expect(skipped.allSatisfy { $0["status"] as? String == "skipped" } && skipped.count == 2, "\(skipped)")

        // A party with no way to reach them: their notice goes dead, and removing them skips it too (so a retry of
        // the dead leaves it alone).
        let silent = try #require(
            (try d.json("party", "add", disputes[0], "--name", "钱七", "--side", "other") as? [String: Any])?["id"]
                as? Int)
        func silentNotice() throws -> [String: Any]? {
            try messages(d).first {
                $0["recipientKind"] as? String == "party" && $0["recipientId"] as? Int == silent
                    && $0["kind"] as? String == "notice"
            }
        }
        let deadline = Date().addingTimeInterval(20)
        while try silentNotice()?["status"] as? String != "dead" && Date() < deadline { usleep(100_000) }
        #expect(try silentNotice()?["status"] as? String == "dead")
        #expect(try d.ctl("party", "remove", disputes[0], String(silent)).status == 0)
        #expect(try silentNotice()?["status"] as? String == "skipped")

        // A member whose offices change after the booking stays on the panel: the session can still be worked on.
        #expect(try d.ctl("expert", "update", String(panel[0]), "--office", "hongqiao").status == 0)
        let declined = try d.ctl("session", "rsvp", "1", String(panel[1]), "declined")
        #expect(declined.status == 0, "\(declined)")

        // A conflict found after the booking is recorded, and the clerk is told the expert sits on the panel; one
        // recorded by mistake can be removed, with a reason.
        #expect(
            try d.ctl("party", "add", disputes[0], "--name", "孙八", "--side", "other", "--organisation", "孙氏公司").status
                == 0)
        let seated = try d.ctl("conflict", "add", String(panel[2]), "--organisation", "孙氏公司")
        #expect(seated.status == 0, "\(seated)")
        #expect(
            seated.stderr.contains("sits on the panel of session #1")
                && seated.stderr.contains("'session replace 1 \(panel[2])'"), "\(seated)")
        let mistaken = try #require(
            (try d.json("conflict", "list", "--expert", String(panel[2])) as? [String: Any])?["conflicts"]
                as? [[String: Any]])
        let mistakenID = try #require(mistaken.first?["id"] as? Int)
        refused(
            try d.ctl("conflict", "remove", String(mistakenID), "--reason", " "),
            "'reason' holds only spaces; it must be: A reason, which is needed")
        #expect(try d.ctl("conflict", "remove", String(mistakenID), "--reason", "录错了").status == 0)
        refused(try d.ctl("conflict", "remove", String(mistakenID), "--reason", "录错了"), "no conflict #\(mistakenID)")
        #expect(try d.ctl("audit", "list", "--target", "expert \(panel[2])").stdout.contains("removed: 录错了"))

        // The same conflict twice is one conflict, however it is spaced.
        #expect(try d.ctl("conflict", "add", "陈志远", "--organisation", "金山物业").status == 0)
        refused(try d.ctl("conflict", "add", "陈志远", "--organisation", " 金山 物业 "), "is already recorded")
        let conflicts = try #require((try d.json("conflict", "list") as? [String: Any])?["conflicts"] as? [Any])
        #expect(conflicts.count == 1)

        // A scheduled dispute cannot close, and says how it could.
        refused(try d.ctl("dispute", "close", disputes[0], "--reason", "结案"), "cancel its booked session first")

        // Cancel: the audit trail says where it came from; a finished session takes no more answers.
        #expect(try d.ctl("session", "cancel", "1", "--reason", "当事人住院").status == 0)
        let audit = try d.ctl("audit", "list", "--target", "session 1")
        #expect(audit.stdout.contains("booked → cancelled"), "\(audit)")
        #expect(!audit.stdout.contains("cancelled → cancelled"), "\(audit)")
        refused(try d.ctl("session", "rsvp", "1", String(panel[0]), "accepted"), "only while a session is booked")

        // A closed dispute keeps what it was closed with until it is reopened.
        let closed = disputes[1]
        #expect(try d.ctl("dispute", "close", closed, "--reason", "和解").status == 0)
        refused(try d.ctl("dispute", "update", closed, "--title", "改名"), "is closed; reopen it first")
        refused(try d.ctl("dispute", "risk", closed, "critical", "--reason", "升级"), "is closed; reopen it first")
        refused(try d.ctl("party", "add", closed, "--name", "赵六", "--side", "other"), "is closed; reopen it first")
        refused(
            try d.ctl("session", "find", closed, "--from", from, "--to", to), "is closed; it cannot be scheduled now")
        let kept = try #require(try d.json("dispute", "show", closed) as? [String: Any])
        #expect((kept["dispute"] as? [String: Any])?["title"] as? String == "纠纷 1")
        #expect((kept["parties"] as? [Any])?.isEmpty == true)
        #expect(try d.ctl("dispute", "reopen", closed, "--reason", "又吵了").status == 0)
        #expect(try d.ctl("dispute", "update", closed, "--title", "改名").status == 0)

        // An expert who does not serve the dispute's office cannot be pinned; the reasons name the party.
        let other = try #require(
            ((try d.json(
                "dispute", "open", "--office", "xinhua", "--title", "新华纠纷", "--category", "noise", "--risk",
                "high", "--risk-reason", "双方扬言报复") as? [String: Any])?["dispute"] as? [String: Any])?["number"]
                as? String)
        let risk = try #require(try d.json("dispute", "show", other) as? [String: Any])
        #expect((risk["riskHistory"] as? [[String: Any]])?.first?["reason"] as? String == "双方扬言报复")
        refused(
            try d.ctl("session", "find", other, "--from", from, "--to", to, "--pin", "王建国"),
            "does not serve office xinhua")
        let hours = try #require(
            try d.json("party", "add", disputes[2], "--name", "李明", "--side", "applicant", "--hours", "sun 03:00-04:00")
                as? [String: Any])
        let never = try SessionEndToEndTests().find(d, disputes[2])
        let reasons = try #require(never["reasons"] as? [String])
        #expect(
            reasons.contains { $0.hasPrefix("李明 (party #\(hours["id"] as? Int ?? -1)) is never free") }, "\(reasons)")

        // It happened, so not in the future.
        refused(
            try d.ctl(
                "dispute", "open", "--office", "jinshan", "--title", "未来", "--category", "noise", "--occurred",
                "2099-01-01"),
            "is in the future")
        let count = try #require((try d.json("dispute", "list") as? [String: Any])?["disputes"] as? [Any])
        #expect(count.count == 4)
    }
}

/// Sloppy and hostile input to disputes, parties and bookings: each answer says what was wrong and what to do,
/// and nothing is written.
@Suite(.serialized)
struct SloppyInputEndToEndTests {
    func post(_ d: DaemonUnderTest, _ path: String, _ body: String, type: String = "application/json") throws -> (
        Int, String
    ) {
        try d.curl(["-X", "POST", "http://localhost\(path)", "-H", "Content-Type: \(type)", "-d", body])
    }

    @Test func eachMistakeIsNamedAndNothingIsWritten() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let disputes = try SessionEndToEndTests().setUp(d, disputes: 1)
        let dispute = disputes[0]
        let auditBefore = try d.ctl("audit", "list").stdout.split(separator: "\n").count

        // Nothing to change is said, and the same values again leave no trace.
        refused(try d.ctl("dispute", "update", dispute), "nothing to change")
        let party = try #require(
            (try d.json("party", "add", dispute, "--name", "李明", "--side", "applicant") as? [String: Any])?["id"]
                as? Int)
        refused(try d.ctl("party", "update", dispute, String(party)), "nothing to change")
        let same = try d.curl([
            "-X", "PATCH", "http://localhost/v1/disputes/\(dispute)", "-H", "Content-Type: application/json", "-d",
            #"{"title":"纠纷 0"}"#,
        ])
        #expect(same.0 == 200, "\(same)")
        // One more row only: the party added above.
        #expect(try d.ctl("audit", "list").stdout.split(separator: "\n").count == auditBefore + 1)

        // Text that is too long or holds control characters.
        let nul = try post(d, "/v1/disputes", #"{"office":"jinshan","title":"a\u0000b","category":"noise"}"#)
        #expect(nul.0 == 400 && nul.1.contains("control character"), "\(nul)")
        let long = String(repeating: "长", count: 10_000)
        let name = try post(d, "/v1/disputes/\(dispute)/parties", #"{"name":"\#(long)","side":"other"}"#)
        #expect(name.0 == 400 && name.1.contains("keep it to 100"), "\(name.0) \(name.1.prefix(300))")
        refused(try d.ctl("dispute", "risk", dispute, "high", "--reason", long), "keep it to 1000")

        // The request's shape, said in the request's words.
        let fraction = try post(
            d, "/v1/disputes", #"{"office":"jinshan","title":"t","category":"noise","elements":{"scale":1.5}}"#)
        #expect(fraction.0 == 400 && fraction.1.contains("is not a whole number"), "\(fraction)")
        let plain = try post(d, "/v1/disputes", #"{"office":"jinshan"}"#, type: "text/plain")
        #expect(plain.0 == 400 && plain.1.contains("Content-Type: application/json"), "\(plain)")
        let nameless = try post(
            d, "/v1/disputes", #"{"office":"jinshan","title":"t","category":"noise","parties":[{"name":"甲"}]}"#)
        #expect(nameless.0 == 400 && nameless.1.contains("parties[0].side"), "\(nameless)")

        // Filters that cannot match anything are said to be wrong.
        let (from, to) = mondayAfterNext(plus: 4)
        refused(try d.ctl("session", "list", "--from", to, "--to", from), "ends before it starts")
        refused(try d.ctl("dispute", "list", "--category", "bogus"), "category 'bogus' is unknown")
        // The default categories by their Chinese names too.
        let chinese = try #require(
            (try d.json("dispute", "open", "--office", "jinshan", "--title", "楼上噪音", "--category", "噪音")
                as? [String: Any])?["dispute"] as? [String: Any])
        #expect(chinese["category"] as? String == "noise")
        let noisy = try #require((try d.json("dispute", "list", "--category", "噪音纠纷") as? [String: Any])?["disputes"])
        #expect((noisy as? [Any])?.count == 2)

        // Bookings: a day without a time, a time the office is shut, an expert named twice.
        let panel = try #require(
            ((try SessionEndToEndTests().find(d, dispute))["options"] as? [[String: Any]])?.first?["panel"]
                as? [[String: Any]]
        ).compactMap { $0["expert"] as? Int }.map(String.init)
        func book(_ at: String, _ experts: [String]) throws -> Outcome {
            try d.ctl(args: ["session", "book", dispute, "--at", at] + experts.flatMap { ["--panel", $0] })
        }
        refused(try book(from, panel), "is a day without a time")
        refused(try book(from + " 03:00", panel), "is outside the office hours of jinshan")
        refused(try book(from + " 14:00", [panel[0], panel[0], panel[2]]), "is named twice on the panel")
        let sessions = try #require((try d.json("session", "list") as? [String: Any])?["sessions"] as? [Any])
        #expect(sessions.isEmpty)
        let disputesNow = try #require((try d.json("dispute", "list") as? [String: Any])?["disputes"] as? [Any])
        #expect(disputesNow.count == 2)
    }
}

extension DaemonUnderTest {
    func json(args: [String]) throws -> Any {
        let outcome = try runProgram(Repo.ctl, ["--socket", socket, "--json"] + args)
        guard outcome.status == 0 else { throw HarnessError("mediationctl failed: \(outcome)") }
        return try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8))
    }
}

/// Video rooms: a Jitsi configuration gives each panel member a signed link that PyJWT verifies.
@Suite(.serialized)
struct RoomEndToEndTests {
    @Test func jitsiLinksCarryATokenARealVerifierAccepts() throws {
        if !FileManager.default.fileExists(atPath: Repo.root.appendingPathComponent(".venv/bin/python").path) {
            let setup = try runProgram("/bin/sh", [Repo.root.appendingPathComponent("scripts/python-env.sh").path])
            #expect(setup.status == 0, "\(setup)")
        }
        let secret = String(repeating: "k", count: 40)
        let d = try DaemonUnderTest()
        let secretFile = d.dir.appendingPathComponent("jitsi.secret").path
        try (secret + "\n").write(toFile: secretFile, atomically: true, encoding: .utf8)
        try d.start(environment: [
            "MEDIATIOND_ROOMS_PROVIDER": "jitsi", "MEDIATIOND_ROOMS_JITSI_DOMAIN": "meet.example.org",
            "MEDIATIOND_ROOMS_JITSI_APP_ID": "mediation", "MEDIATIOND_ROOMS_JITSI_SECRET_FILE": secretFile,
        ])
        let numbers = try SessionEndToEndTests().setUp(d, disputes: 1)
        _ = try SessionEndToEndTests().find(d, numbers[0])
        let booked = try #require(try d.json("session", "book", numbers[0], "--option", "1") as? [String: Any])
        let room = try #require(booked["room"] as? String)
        #expect(room.count >= 26, "at least 128 random bits")
        let links = try #require((try d.json("session", "links", "1") as? [String: Any])?["links"] as? [[String: Any]])
        #expect(links.count == 3)
        #expect(links.filter { $0["moderator"] as? Bool == true }.count == 1, "only the lead moderates")
        for entry in links {
            let link = try #require(entry["link"] as? String)
            #expect(link.hasPrefix("https://meet.example.org/\(room)?jwt="))
            let token = String(link.split(separator: "=", maxSplits: 1)[1])
            var env = ProcessInfo.processInfo.environment
            env["JWT_SECRET"] = secret
            let verified = try runProgram(
                Repo.root.appendingPathComponent(".venv/bin/python").path,
                [
                    Repo.root.appendingPathComponent("Tests/peers/jwt_verify.py").path, token, "--audience", "jitsi",
                    "--issuer", "mediation",
                ], environment: env)
            #expect(verified.status == 0, "PyJWT must accept the token: \(verified)")
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [String: Any])
            #expect(payload["room"] as? String == room)
            #expect(payload["sub"] as? String == "meet.example.org")
            let user = try #require((payload["context"] as? [String: Any])?["user"] as? [String: Any])
            #expect(user["moderator"] as? Bool == (entry["moderator"] as? Bool))
            #expect(user["name"] as? String == entry["name"] as? String)
            env["JWT_SECRET"] = secret + "x"
            let forged = try runProgram(
                Repo.root.appendingPathComponent(".venv/bin/python").path,
                [
                    Repo.root.appendingPathComponent("Tests/peers/jwt_verify.py").path, token, "--audience", "jitsi",
                    "--issuer", "mediation",
                ], environment: env)
            #expect(forged.status == 1, "another secret must not verify")
        }
        #expect(!d.log().contains("jwt="), "tokens never reach the log")

        let short = try DaemonUnderTest()
        var env = ProcessInfo.processInfo.environment
        env["MEDIATIOND_ROOMS_PROVIDER"] = "jitsi"
        env["MEDIATIOND_ROOMS_JITSI_DOMAIN"] = "meet.example.org"
        env["MEDIATIOND_ROOMS_JITSI_APP_ID"] = "mediation"
        env["MEDIATIOND_ROOMS_JITSI_SECRET_FILE"] = "/nonexistent/secret"
        let refused = try runProgram(Repo.daemon, ["--config", short.config], environment: env)
        #expect(refused.status == 2 && refused.stderr.contains("/nonexistent/secret"), "\(refused)")
    }
}
