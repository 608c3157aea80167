import Foundation
import Testing

/// A session's life through the real binaries, on a daemon whose clock the test moves (`--test-clock-file`): it is
/// started, ended or missed only around its time; its room links are given out only while it is booked or under
/// way, and their tokens wait for its start; its outcome can be corrected or voided, and everything follows; and a
/// session can be booked outside office hours, with a reason.
@Suite(.serialized)
struct SessionLifeEndToEndTests {
    let sessions = SessionEndToEndTests()
    let outcomes = OutcomeEndToEndTests()

    /// The ISO week of an instant in Asia/Shanghai, `2026-W51`.
    func isoWeek(_ date: Date) -> String {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .current
        let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        return String(format: "%04d-W%02d", c.yearForWeekOfYear ?? 0, c.weekOfYear ?? 0)
    }

    /// `2026-12-14T13:15:00+08:00`, as the daemon writes times in Shanghai.
    func shanghai(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        return f.string(from: date)
    }

    // MARK: Item 7: started, ended and missed around the session's time

    @Test func aSessionIsStartedEndedOrMissedOnlyAroundItsTime() throws {
        let d = try DaemonUnderTest(
            extraYAML: "scheduling:\n  start_margin_minutes: 45\n", movableClock: true)
        try d.start()
        #expect(d.log().contains("TEST CLOCK"), "a moved clock is said loudly at start: \(d.log())")
        let disputes = try sessions.setUp(d, disputes: 2)
        let session = try outcomes.book(d, disputes[0])
        let start = try d.sessionStart(session)

        // Days early, as the issue saw: each refused, saying from when, and nothing written.
        refused(
            try d.ctl("session", "start", String(session)),
            "it can be started from \(shanghai(start.addingTimeInterval(-45 * 60))) (45 minutes before its start)")
        refused(try d.ctl("session", "no-show", String(session)), "it can be marked a no-show from its start")
        refused(
            try d.ctl("outcome", "record", String(session), "agreement", "--terms", "和解"), "has not ended yet")
        let untouched = try #require(try d.json("session", "show", String(session)) as? [String: Any])
        #expect(untouched["status"] as? String == "booked")
        #expect(!(try d.ctl("audit", "list", "--target", "session \(session)").stdout.contains("session.status")))

        // Within the configured margin it starts; it ends from its start.
        try d.moveClock(toSession: session, plus: -40 * 60)
        #expect(try d.ctl("session", "start", String(session)).status == 0)
        refused(try d.ctl("session", "end", String(session)), "it can be ended from its start")
        try d.moveClock(toSession: session, plus: 95 * 60)
        #expect(try d.ctl("session", "end", String(session)).status == 0)
        let recorded = try #require(
            try d.json("outcome", "record", String(session), "agreement", "--terms", "王某赔偿 1200 元") as? [String: Any])
        // The visits count from the day it was held, and the weekly review of that week holds the session.
        let visits = try #require(recorded["followUps"] as? [[String: Any]])
        #expect(visits.map { $0["dueOn"] as? String } == [outcomes.day(start, plus: 3), outcomes.day(start, plus: 30)])
        let weekly = try #require(
            try d.json("report", "weekly", "--week", isoWeek(start)) as? [String: Any])
        #expect(weekly["sessionsHeld"] as? Int == 1, "\(weekly)")
        let agreements = (weekly["outcomes"] as? [[String: Any]])?.first { $0["key"] as? String == "agreement" }
        #expect(agreements?["count"] as? Int == 1, "\(weekly)")

        // A no-show is marked from the start of the session that was missed.
        let missed = try outcomes.book(d, disputes[1])
        refused(try d.ctl("session", "no-show", String(missed)), "it can be marked a no-show from its start")
        try d.moveClock(toSession: missed)
        #expect(try d.ctl("session", "no-show", String(missed)).status == 0)

        // The margin is a configuration key, checked at start.
        let bad = try DaemonUnderTest(extraYAML: "scheduling:\n  start_margin_minutes: -5\n")
        let refusedStart = try runProgram(Repo.daemon, ["--config", bad.config])
        #expect(
            refusedStart.status == 2 && refusedStart.stderr.contains("scheduling.start_margin_minutes"),
            "\(refusedStart)")
    }

    @Test func theTestClockIsRefusedUnderSystemdAndNeverAdvertised() throws {
        let d = try DaemonUnderTest(movableClock: true)
        let clock = try #require(d.clockFile)
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = nil
        for variable in ["INVOCATION_ID", "NOTIFY_SOCKET"] {
            var systemd = env
            systemd[variable] = "x"
            let r = try runProgram(
                Repo.daemon, ["--config", d.config, "--test-clock-file", clock], environment: systemd)
            #expect(r.status == 2 && r.stderr.contains("refused under systemd (\(variable) is set)"), "\(r)")
        }
        try "next week\n".write(toFile: clock, atomically: true, encoding: .utf8)
        let garbled = try runProgram(
            Repo.daemon, ["--config", d.config, "--test-clock-file", clock], environment: env)
        #expect(garbled.status == 2 && garbled.stderr.contains("not a number of seconds"), "\(garbled)")
        let help = try runProgram(Repo.daemon, ["serve", "--help"])
        #expect(help.status == 0 && !help.stdout.contains("clock"), "\(help)")
    }

    // MARK: Item 2: links only while booked or under way; tokens from 15 minutes before the start

    @Test func linksAreRefusedOnceASessionIsOverAndTheirTokensWaitForItsStart() throws {
        if !FileManager.default.fileExists(atPath: Repo.root.appendingPathComponent(".venv/bin/python").path) {
            let setup = try runProgram("/bin/sh", [Repo.root.appendingPathComponent("scripts/python-env.sh").path])
            #expect(setup.status == 0, "\(setup)")
        }
        let secret = String(repeating: "s", count: 40)
        let d = try DaemonUnderTest(movableClock: true)
        try d.start(environment: [
            "MEDIATIOND_ROOMS_PROVIDER": "jitsi", "MEDIATIOND_ROOMS_JITSI_DOMAIN": "meet.example.org",
            "MEDIATIOND_ROOMS_JITSI_APP_ID": "mediation", "MEDIATIOND_ROOMS_JITSI_SECRET": secret,
        ])
        let disputes = try sessions.setUp(d, disputes: 2)
        let first = try outcomes.book(d, disputes[0])
        let shown = try #require(try d.json("session", "show", String(first)) as? [String: Any])
        let start = try d.sessionStart(first)
        let endText = try #require(shown["end"] as? String)
        let end = try #require(ISO8601DateFormatter().date(from: endText))
        let links = try #require(
            (try d.json("session", "links", String(first)) as? [String: Any])?["links"] as? [[String: Any]])
        #expect(links.count == 3)
        for entry in links {
            let link = try #require(entry["link"] as? String)
            var env = ProcessInfo.processInfo.environment
            env["JWT_SECRET"] = secret
            let verified = try runProgram(
                Repo.root.appendingPathComponent(".venv/bin/python").path,
                [
                    Repo.root.appendingPathComponent("Tests/peers/jwt_verify.py").path,
                    String(link.split(separator: "=", maxSplits: 1)[1]), "--audience", "jitsi", "--issuer", "mediation",
                ], environment: env)
            #expect(verified.status == 0, "PyJWT must accept the token: \(verified)")
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(verified.stdout.utf8)) as? [String: Any])
            let nbf = try #require(payload["nbf"] as? Int)
            let exp = try #require(payload["exp"] as? Int)
            #expect(nbf == Int(start.timeIntervalSince1970) - 15 * 60, "valid from 15 minutes before the start")
            #expect(exp == Int(end.timeIntervalSince1970) + 30 * 60)
            #expect(Double(nbf) > Date().timeIntervalSince1970 + 86400, "not usable days before the session")
        }

        // Cancelled: no links, the moderator's least of all; the API says 409 with the status.
        #expect(try d.ctl("session", "cancel", String(first), "--reason", "当事人住院").status == 0)
        let cancelled = try d.ctl("session", "links", String(first))
        refused(cancelled, "session #\(first) is cancelled; its room links are given out only while it is booked")
        #expect(!cancelled.stdout.contains("jwt="), "\(cancelled)")
        let raw = try d.curl(["http://localhost/v1/sessions/\(first)/links"])
        #expect(raw.0 == 409 && raw.1.contains("is cancelled") && !raw.1.contains("jwt="), "\(raw)")
        // Nor through a preview of its notices.
        let preview = try d.ctl("outbox", "preview", String(first))
        refused(preview, "session #\(first) is cancelled; its room links are given out only while it is booked")
        #expect(!preview.stdout.contains("jwt="), "\(preview)")

        // Under way: links; ended: none.
        let second = try outcomes.book(d, disputes[1])
        try d.moveClock(toSession: second)
        #expect(try d.ctl("session", "start", String(second)).status == 0)
        #expect(try d.ctl("session", "links", String(second)).stdout.contains("jwt="))
        #expect(try d.ctl("session", "end", String(second)).status == 0)
        refused(try d.ctl("session", "links", String(second)), "session #\(second) is ended")
    }

    // MARK: Item 8: an outcome amended or voided, and everything following it

    @Test func aMistypedOutcomeIsAmendedOrVoidedAndReportsAndVisitsFollow() throws {
        let d = try DaemonUnderTest(movableClock: true)
        try d.start()
        let disputes = try sessions.setUp(d, disputes: 1)
        let dispute = disputes[0]
        let session = try outcomes.book(d, dispute)
        let id = String(session)
        let start = try d.sessionStart(session)
        let (from, to) = (outcomes.day(start, plus: -1), outcomes.day(start, plus: 1))
        try d.moveClock(toSession: session)
        #expect(try d.ctl("session", "start", id).status == 0)
        #expect(try d.ctl("session", "end", id).status == 0)
        #expect(
            try d.ctl("outcome", "record", id, "agreement", "--terms", "王某赔偿医药费，三日内付清", "--amount", "12", "--signed")
                .status == 0)
        func report() throws -> [String: Any] {
            try #require(
                (try d.json("report", "outcomes", "--from", from, "--to", to) as? [String: Any])?["total"]
                    as? [String: Any])
        }
        func visits() throws -> [[String: Any]] {
            try #require((try d.json("followup", "list", "--all") as? [String: Any])?["followUps"] as? [[String: Any]])
        }
        func reminders(_ status: String) throws -> Int {
            try #require(
                (try d.json("outbox", "list", "--session", id) as? [String: Any])?["messages"] as? [[String: Any]]
            ).filter { $0["kind"] as? String == "followup" && $0["status"] as? String == status }.count
        }
        func disputeStatus() throws -> String? {
            ((try d.json("dispute", "show", dispute) as? [String: Any])?["dispute"] as? [String: Any])?["status"]
                as? String
        }
        #expect(try report()["agreements"] as? Int == 1)
        #expect(try visits().count == 2 && reminders("pending") == 4)

        // Recording again is refused, and says how to correct it instead.
        let again = try d.ctl("outcome", "record", id, "no_agreement")
        refused(again, "correct it with 'outcome amend \(id) RESULT' or what else changes")
        #expect(again.stderr.contains("'outcome void \(id) --reason …'"), "\(again)")

        // The amount corrected; the old one stays in the audit trail, the export has the new one.
        refused(try d.ctl("outcome", "amend", id), "nothing to change")
        refused(try d.ctl("outcome", "amend", id, "settled"), "result 'settled' is unknown")
        let amended = try #require(
            try d.json("outcome", "amend", id, "--amount", "1200", "--reason", "金额录错") as? [String: Any])
        #expect((amended["outcome"] as? [String: Any])?["amount"] as? String == "1200.00")
        #expect((amended["outcome"] as? [String: Any])?["amendedAt"] != nil)
        let audit = try d.ctl("audit", "list", "--target", "session \(id)")
        #expect(audit.stdout.contains("outcome.amend") && audit.stdout.contains("amount 12.00 → 1200.00"), "\(audit)")
        let csv = d.dir.appendingPathComponent("outcomes.csv").path
        #expect(try d.ctl("export", "outcomes", "--from", from, "--to", to, "--csv", "-o", csv).status == 0)
        let exported = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(exported.contains("1200.00") && !exported.contains(",12.00"), "\(exported)")
        let shown = try d.ctl("outcome", "show", id)
        #expect(shown.stdout.contains("¥1200.00") && shown.stdout.contains("amended:"), "\(shown)")

        // No agreement after all: the report, the visits, their reminders and the dispute follow.
        let none = try #require(try d.json("outcome", "amend", id, "no_agreement") as? [String: Any])
        #expect((none["followUpsCancelled"] as? [Any])?.count == 2)
        #expect(none["disputeStatus"] as? String == "unresolved" && none["disputeWas"] as? String == "resolved")
        #expect(try report()["agreements"] as? Int == 0 && report()["outcomes"] as? Int == 1)
        #expect(try visits().isEmpty && reminders("pending") == 0 && reminders("skipped") == 4)

        // An agreement again, then the issue's path: the dispute reopened. The outcome still counts until it is
        // voided; voided, it counts nowhere, its visits go, and it can be recorded again.
        let back = try #require(try d.json("outcome", "amend", id, "agreement") as? [String: Any])
        #expect((back["followUpsPlanned"] as? [Any])?.count == 2 && back["disputeStatus"] as? String == "resolved")
        #expect(try d.ctl("dispute", "reopen", dispute, "--reason", "结果录错").status == 0)
        #expect(try report()["agreements"] as? Int == 1 && visits().count == 2)
        refused(try d.ctl("outcome", "void", id, "--reason", ""), "'reason' is empty")
        let voided = try d.ctl("outcome", "void", id, "--reason", "录成了别的案件的结果")
        #expect(voided.status == 0 && voided.stdout.contains("VOIDED"), "\(voided)")
        #expect(
            voided.stdout.contains(
                "record the session's outcome again, e.g. 'mediationctl outcome record \(id) agreement"),
            "\(voided)")
        #expect(try report()["outcomes"] as? Int == 0)
        #expect(try visits().isEmpty && reminders("pending") == 0)
        #expect(try disputeStatus() == "in_session")
        refused(try d.ctl("outcome", "show", id), "its agreement was voided (录成了别的案件的结果)")
        #expect(try d.ctl("audit", "list", "--target", "session \(id)").stdout.contains("outcome.void"))
        let rerecorded = try #require(
            try d.json(
                "outcome", "record", id, "partial_agreement", "--terms", "王某赔偿 600 元", "--amount", "600")
                as? [String: Any])
        #expect(rerecorded["disputeStatus"] as? String == "resolved")
        #expect((rerecorded["followUps"] as? [Any])?.count == 2)
        #expect(try report()["outcomes"] as? Int == 1 && visits().count == 2)

        // A closed dispute keeps its outcome as it was closed.
        #expect(try d.ctl("dispute", "close", dispute, "--reason", "协议履行").status == 0)
        refused(try d.ctl("outcome", "void", id, "--reason", "x"), "is closed; reopen it first")

        // Everything survives a restart.
        #expect(d.stop() == 0)
        try d.start()
        let kept = try #require(try d.json("outcome", "show", id) as? [String: Any])
        #expect(kept["result"] as? String == "partial_agreement" && kept["amount"] as? String == "600.00")
    }

    // MARK: Item 20: evenings and weekends, with a reason

    @Test func aSessionIsBookedOutsideOfficeHoursWithAReasonShownAndAudited() throws {
        let (monday, _) = mondayAfterNext(plus: 0)
        let (_, saturday) = mondayAfterNext(plus: 5)
        let (_, nextSaturday) = mondayAfterNext(plus: 12)
        let (_, nextSunday) = mondayAfterNext(plus: 13)
        let d = try DaemonUnderTest(extraYAML: "scheduling:\n  holidays: [\(saturday)]\n")
        try d.start()
        let disputes = try sessions.setUp(d, disputes: 1)
        let dispute = disputes[0]
        // A lawyer and a legal officer suffice for this dispute; its applicant can come only on Saturday mornings.
        #expect(
            try d.ctl("policy", "set", "weekend", "--require", "legal_officer", "--require", "lawyer").status == 0)
        #expect(
            try d.ctl("party", "add", dispute, "--name", "李明", "--side", "applicant", "--hours", "sat 09:00-12:00")
                .status == 0)
        let window = ["--from", monday, "--to", nextSunday, "--policy", "weekend"]

        let inside = try #require(try d.json(args: ["session", "find", dispute] + window) as? [String: Any])
        #expect((inside["options"] as? [Any])?.isEmpty == true)
        #expect(
            (inside["reasons"] as? [String])?.contains { $0.contains("inside office hours") } == true, "\(inside)")
        refused(
            try d.ctl(args: ["session", "find", dispute, "--outside-hours"] + window), "--outside-hours needs --reason")
        refused(
            try d.ctl(args: ["session", "find", dispute, "--reason", "晚上"] + window),
            "--reason goes with --outside-hours")
        let blank = try d.curl([
            "-X", "POST", "http://localhost/v1/disputes/\(dispute)/slots", "-H", "Content-Type: application/json", "-d",
            #"{"from":"\#(monday)","to":"\#(nextSunday)","outsideHours":true,"outsideHoursReason":"  "}"#,
        ])
        // A reason of spaces only is no reason: the contract says a reason is needed, naming the field.
        #expect(
            blank.0 == 400
                && blank.1.contains("'outsideHoursReason' holds only spaces; it must be: A reason, which is needed"),
            "\(blank)")

        // Outside the hours: Saturday mornings, but not the one that is a holiday.
        let found = try #require(
            try d.json(args: ["session", "find", dispute, "--outside-hours", "--reason", "申请人工作日上班"] + window)
                as? [String: Any])
        let options = try #require(found["options"] as? [[String: Any]])
        #expect(!options.isEmpty, "\(found)")
        #expect(options.allSatisfy { ($0["start"] as? String ?? "").hasPrefix(nextSaturday) }, "\(options)")
        let booked = try #require(try d.json("session", "book", dispute, "--option", "1") as? [String: Any])
        #expect(booked["outsideHours"] as? Bool == true && booked["outsideHoursReason"] as? String == "申请人工作日上班")
        let id = try #require(booked["id"] as? Int)
        let show = try d.ctl("session", "show", String(id))
        #expect(show.stdout.contains("outside office hours: 申请人工作日上班"), "\(show)")
        #expect(try d.ctl("session", "list").stdout.contains("booked (outside hours)"))
        let audit = try d.ctl("audit", "list", "--target", "session \(id)")
        #expect(audit.stdout.contains("outside office hours: 申请人工作日上班"), "\(audit)")

        // An explicit time on a Saturday: refused without the flag, booked with it; never on the holiday.
        #expect(try d.ctl("session", "cancel", String(id), "--reason", "改时间").status == 0)
        let panel = try #require(booked["panel"] as? [[String: Any]]).compactMap { $0["expert"] as? Int }.map(
            String.init)
        func book(_ at: String, _ extra: [String]) throws -> Outcome {
            try d.ctl(
                args: ["session", "book", dispute, "--at", at, "--policy", "weekend"]
                    + panel.flatMap { ["--panel", $0] }
                    + extra)
        }
        refused(try book(nextSaturday + " 09:30", []), "is outside the office hours of jinshan")
        refused(try book(saturday + " 09:30", ["--outside-hours", "--reason", "晚上"]), "is a holiday")
        let explicit = try book(nextSaturday + " 09:30", ["--outside-hours", "--reason", "只有周六有空"])
        #expect(explicit.status == 0 && explicit.stdout.contains("outside office hours: 只有周六有空"), "\(explicit)")
    }
}
