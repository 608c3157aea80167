import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Disputes, parties, conflicts and panel policies through the real binaries.
@Suite(.serialized)
struct DisputeEndToEndTests {
    func open(_ d: DaemonUnderTest, office: String = "jinshan", title: String = "噪音纠纷", category: String = "noise")
        throws -> [String: Any]
    {
        let r = try d.json("dispute", "open", "--office", office, "--title", title, "--category", category)
        return try #require((r as? [String: Any])?["dispute"] as? [String: Any])
    }

    @Test func disputesAreNumberedPerOfficeAndKeepTheirHistoryAcrossARestart() throws {
        let d = try DaemonUnderTest()
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山", "--prefix", "JS").status == 0)
        #expect(try d.ctl("office", "add", "xinhua", "--name", "新华").status == 0)
        let year = Calendar(identifier: .gregorian).dateComponents(
            in: TimeZone(identifier: "Asia/Shanghai")!, from: Date()
        ).year!
        #expect(try open(d)["number"] as? String == "JS-\(year)-0001")
        #expect(try open(d)["number"] as? String == "JS-\(year)-0002")
        #expect(try open(d, office: "xinhua", category: "pet")["number"] as? String == "XI-\(year)-0001")

        let number = "JS-\(year)-0001"
        let party = try d.ctl(
            "party", "add", number, "--name", "李明", "--side", "申请人", "--mobile", "137 0000 0001", "--id-card",
            "11010519491231002X", "--hours", "sat-sun 09:00-12:00")
        #expect(party.status == 0, "\(party)")
        #expect(party.stdout.contains("1101**********002X"), "shown masked: \(party)")
        #expect(
            try d.ctl("party", "add", number, "--name", "王强", "--side", "respondent", "--organisation", "金山物业").status
                == 0)
        #expect(try d.ctl("dispute", "risk", number.lowercased(), "high", "--reason", "双方发生推搡").status == 0)
        #expect(try d.ctl("dispute", "close", number, "--reason", "现场调解成功").status == 0)

        let again = try d.ctl("dispute", "close", number, "--reason", "again")
        #expect(again.status == 2)
        #expect(
            again.stderr.contains("is closed; it cannot become closed (from closed it can become: open)"), "\(again)")
        #expect(try d.ctl("dispute", "reopen", number, "--reason", "纠纷反复").status == 0)

        #expect(d.stop() == 0)
        try d.start()
        let detail = try #require(try d.json("dispute", "show", number) as? [String: Any])
        let dispute = try #require(detail["dispute"] as? [String: Any])
        #expect(dispute["risk"] as? String == "high")
        #expect(dispute["status"] as? String == "open")
        let risk = try #require(detail["riskHistory"] as? [[String: Any]])
        #expect(risk.map { $0["to"] as? String } == ["low", "high"])
        #expect(risk.last?["reason"] as? String == "双方发生推搡")
        #expect(risk.last?["uid"] as? Int == Int(getuid()))
        let status = try #require(detail["statusHistory"] as? [[String: Any]])
        #expect(status.map { $0["to"] as? String } == ["open", "closed", "open"])
        let parties = try #require(detail["parties"] as? [[String: Any]])
        #expect(parties.first?["idCard"] as? String == "1101**********002X")
        #expect(parties.first?["mobile"] as? String == "137****0001")
        let revealed = try #require(try d.json("dispute", "show", number, "--reveal") as? [String: Any])
        #expect(((revealed["parties"] as? [[String: Any]])?.first?["idCard"] as? String) == "11010519491231002X")
        #expect(((revealed["parties"] as? [[String: Any]])?.first?["mobile"] as? String) == "13700000001")

        let list = try #require(try d.json("dispute", "list", "--risk", "high") as? [String: Any])
        #expect((list["disputes"] as? [Any])?.count == 1)
        let text = try #require(try d.json("dispute", "list", "--office", "xinhua") as? [String: Any])
        #expect((text["disputes"] as? [Any])?.count == 1)
        let table = try d.ctl("dispute", "list")
        #expect(table.stdout.contains("3 disputes"), "\(table)")
    }

    @Test func badDisputeInputIsRefusedAndNothingWritten() throws {
        let d = try DaemonUnderTest()
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山").status == 0)
        let cases: [([String], String)] = [
            (["dispute", "open", "--office", "nowhere", "--title", "x", "--category", "noise"], "no office 'nowhere'"),
            (
                ["dispute", "open", "--office", "jinshan", "--title", "x", "--category", "quarrel"],
                "category 'quarrel'"
            ),
            (
                ["dispute", "open", "--office", "jinshan", "--title", "x", "--category", "noise", "--risk", "huge"],
                "risk 'huge' is unknown"
            ),
            (
                ["dispute", "open", "--office", "jinshan", "--title", " ", "--category", "noise"],
                "'title' holds only spaces"
            ),
            (
                ["dispute", "open", "--office", "jinshan", "--title", "x", "--category", "noise", "--scale", "-3"],
                "field 'elements.scale' is -3; it must be at least 1"
            ),
            (
                ["dispute", "open", "--office", "jinshan", "--title", "x", "--category", "noise", "--occurred", "昨天"],
                "occurredAt '昨天' is not a date or time"
            ),
        ]
        for (args, message) in cases {
            let r = try d.ctl(args: args)
            #expect(r.status == 2, "\(args): \(r)")
            #expect(r.stderr.contains(message), "\(args) should say '\(message)': \(r)")
        }
        let none = try #require(try d.json("dispute", "list") as? [String: Any])
        #expect((none["disputes"] as? [Any])?.isEmpty == true)

        let number = try open(d)["number"] as? String ?? ""
        let partyCases: [([String], String)] = [
            (["--name", "李明", "--side", "judge"], "side 'judge' is unknown"),
            (["--name", "李明", "--side", "applicant", "--id-card", "110105194912310021"], "1101**********0021"),
            (["--name", "李明", "--side", "applicant", "--time-zone", "Mars/Base"], "Mars/Base"),
            (
                ["--name", "李明", "--side", "applicant", "--available", "2026-12-12 12:00..2026-12-12 09:00"],
                "a dated window ends before it starts"
            ),
            (["--name", "李明", "--side", "applicant", "--available", "tomorrow"], "is not FROM..TO"),
        ]
        for (args, message) in partyCases {
            let r = try d.ctl(args: ["party", "add", number] + args)
            #expect(r.status == 2, "\(args): \(r)")
            #expect(r.stderr.contains(message), "\(args) should say '\(message)': \(r)")
        }
        let detail = try #require(try d.json("dispute", "show", number) as? [String: Any])
        #expect((detail["parties"] as? [Any])?.isEmpty == true)

        let risk = try d.ctl("dispute", "risk", number, "low", "--reason", "same")
        #expect(risk.status == 2 && risk.stderr.contains("already low risk"), "\(risk)")
        let missing = try d.ctl("dispute", "show", "JS-1999-0001")
        #expect(missing.status == 2 && missing.stderr.contains("no dispute 'JS-1999-0001'"))
    }

    @Test func conflictsAndPolicies() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        let number = try open(d)["number"] as? String ?? ""
        #expect(
            try d.ctl("party", "add", number, "--name", "王强", "--side", "respondent", "--organisation", "金山 物业").status
                == 0)
        let byOrganisation = try d.ctl("conflict", "add", "陈志远", "--organisation", "金山物业", "--reason", "法律顾问")
        #expect(byOrganisation.status == 0, "\(byOrganisation)")
        let partyID = try #require(
            ((try d.json("dispute", "show", number) as? [String: Any])?["parties"] as? [[String: Any]])?.first?["id"]
                as? Int)
        #expect(try d.ctl("conflict", "add", "13900000002", "--party", String(partyID), "--reason", "亲属").status == 0)
        let forDispute = try #require(try d.json("conflict", "list", "--dispute", number) as? [String: Any])
        #expect((forDispute["conflicts"] as? [[String: Any]])?.compactMap { $0["expert"] as? Int }.sorted() == [1, 2])
        let both = try d.ctl("conflict", "add", "1", "--party", "1", "--organisation", "x")
        #expect(both.status == 2 && both.stderr.contains("either --party ID or --organisation NAME"))
        let ghost = try d.ctl("conflict", "add", "1", "--party", "999")
        #expect(ghost.status == 2 && ghost.stderr.contains("no party #999"), "\(ghost)")

        let policies = try d.ctl("policy", "list")
        #expect(policies.stdout.contains("standard  legal_officer, lawyer, community_staff"), "\(policies)")
        let set = try d.ctl(
            "policy", "set", "property", "--require", "legal_officer", "--require", "律师:property", "--require",
            "2*community_staff")
        #expect(set.status == 0 && set.stdout.contains("legal_officer, lawyer:property, 2*community_staff"), "\(set)")
        let bad = try d.ctl("policy", "set", "odd", "--require", "judge", "--require", "9*lawyer")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("'judge' names no role") && bad.stderr.contains("ask for 1 to 5"), "\(bad)")
        #expect(try d.ctl("policy", "show", "odd").status == 2)
    }

    @Test(.enabled(if: getuid() == 0, "needs root to run the client as another user"))
    func onlyAdminsRevealAndSetPolicies() throws {
        let d = try DaemonUnderTest(socketMode: "0666", viewerGroups: ["nogroup"])
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山").status == 0)
        let number = try open(d)["number"] as? String ?? ""
        let asViewer = [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", try d.ctlForOtherUsers(), "--socket", d.socket,
        ]
        let show = try runProgram("/usr/bin/setpriv", asViewer + ["dispute", "show", number])
        #expect(show.status == 0, "\(show)")
        let reveal = try runProgram("/usr/bin/setpriv", asViewer + ["dispute", "show", number, "--reveal"])
        #expect(reveal.status == 1 && reveal.stderr.contains("privacy.reveal_roles"), "\(reveal)")
        let policy = try runProgram("/usr/bin/setpriv", asViewer + ["policy", "set", "x1", "--require", "lawyer"])
        #expect(policy.status == 1 && policy.stderr.contains("needs the admin role"), "\(policy)")
        let risk = try runProgram("/usr/bin/setpriv", asViewer + ["dispute", "risk", number, "high", "--reason", "x"])
        #expect(risk.status == 1 && risk.stderr.contains("needs the staff role"), "\(risk)")
    }
}
