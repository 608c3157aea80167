import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The audit trail, masking, reveal and retention through the real daemon and the real mediationctl.
@Suite(.serialized) struct AuditEndToEndTests {
    private func sqlite(_ db: String, _ sql: String) throws -> Outcome {
        try runProgram("/usr/bin/sqlite3", [db, sql])
    }

    /// Experts' mobiles follow the parties' rule through the real binaries: masked for a viewer and for anyone who
    /// does not ask, in the table, the JSON and the roster export; revealed only to privacy.reveal_roles, audited;
    /// the revealed roster reads back, a masked one is refused with what to do.
    @Test func expertsMobilesAreMaskedForEveryoneWhoDoesNotReveal() throws {
        let d = try DaemonUnderTest(socketMode: "0666", viewerGroups: ["nogroup"])
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山警务室").status == 0)
        let added = try d.ctl(
            "expert", "add", "--name", "王芳", "--role", "lawyer", "--office", "jinshan", "--mobile", "13900000002")
        #expect(added.status == 0 && !added.stdout.contains("13900000002"), "\(added)")
        let asViewer = [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", try d.ctlForOtherUsers(), "--socket", d.socket,
        ]
        for args in [
            ["expert", "list"], ["--json", "expert", "list"], ["--json", "expert", "show", "13900000002"],
            ["expert", "export"],
        ] as [[String]] {
            let viewer = try runProgram("/usr/bin/setpriv", asViewer + args)
            #expect(viewer.status == 0 && viewer.stdout.contains("139****0002"), "\(args): \(viewer)")
            #expect(!viewer.stdout.contains("13900000002"), "\(args): \(viewer)")
            let admin = try d.ctl(args: args)
            #expect(admin.status == 0 && !admin.stdout.contains("13900000002"), "unasked, even an admin: \(admin)")
        }
        for args in [
            ["expert", "list", "--reveal"], ["expert", "show", "王芳", "--reveal"], ["expert", "export", "--reveal"],
        ] {
            let refused = try runProgram("/usr/bin/setpriv", asViewer + args)
            #expect(refused.status == 1 && refused.stderr.contains("privacy.reveal_roles"), "\(args): \(refused)")
            #expect(!refused.stdout.contains("13900000002"))
        }
        let full = try d.ctl("expert", "show", "王芳", "--reveal")
        #expect(full.status == 0 && full.stdout.contains("13900000002"), "\(full)")
        let audit = try d.ctl("audit", "list", "--target", "expert")
        #expect(audit.stdout.contains("expert.reveal") && !audit.stdout.contains("13900000002"), "\(audit)")

        // The masked roster is for reading: import refuses it, saying how to get one it reads back.
        let masked = d.dir.appendingPathComponent("masked.csv").path
        #expect(try d.ctl("expert", "export", "--output", masked).status == 0)
        let refused = try d.ctl("expert", "import", masked)
        #expect(refused.status == 2 && refused.stderr.contains("is masked"), "\(refused)")
        #expect(refused.stderr.contains("--reveal"), "\(refused)")
        let roster = d.dir.appendingPathComponent("roster.csv").path
        #expect(try d.ctl("expert", "export", "--reveal", "--output", roster).status == 0)
        let back = try d.ctl("expert", "import", roster)
        #expect(back.stdout.contains("created 0, updated 0, unchanged 1"), "\(back)")
    }

    @Test func auditTrailRevealAndRetentionSurviveARestart() throws {
        let d = try DaemonUnderTest(
            socketMode: "0666", viewerGroups: ["nogroup"], extraYAML: "privacy:\n  retention_months: 1\n")
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山警务室", "--prefix", "JS").status == 0)
        let open = try d.ctl(
            "dispute", "open", "--office", "jinshan", "--title", "邻里噪音纠纷", "--category", "noise")
        #expect(open.status == 0, "\(open)")
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        let number = "JS-\(year)-0001"
        let party = try d.ctl(
            "party", "add", number, "--name", "李明", "--side", "申请人", "--mobile", "13700000001", "--id-card",
            "11010519491231002X")
        #expect(party.status == 0, "\(party)")
        #expect(!party.stdout.contains("13700000001") && party.stdout.contains("137****0001"), "\(party)")

        // Masked for everyone who does not ask, in tables and JSON alike.
        let shown = try d.ctl("dispute", "show", number)
        #expect(shown.stdout.contains("137****0001") && shown.stdout.contains("1101**********002X"), "\(shown)")
        #expect(!shown.stdout.contains("13700000001") && !shown.stdout.contains("11010519491231002X"))
        #expect(!(try d.ctl("--json", "dispute", "show", number).stdout.contains("13700000001")))

        // A viewer (nobody in group nogroup) may neither reveal nor read the audit trail.
        let asViewer = [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", try d.ctlForOtherUsers(), "--socket", d.socket,
        ]
        let reveal = try runProgram("/usr/bin/setpriv", asViewer + ["dispute", "show", number, "--reveal"])
        #expect(reveal.status == 1, "\(reveal)")
        #expect(reveal.stderr.contains("privacy.reveal_roles"), "\(reveal)")
        let viewerAudit = try runProgram("/usr/bin/setpriv", asViewer + ["audit", "list"])
        #expect(viewerAudit.status == 1 && viewerAudit.stderr.contains("needs the staff role"), "\(viewerAudit)")
        let viewerWrite = try runProgram(
            "/usr/bin/setpriv", asViewer + ["dispute", "risk", number, "high", "--reason", "x"])
        #expect(viewerWrite.status == 1 && viewerWrite.stderr.contains("needs the staff role"), "\(viewerWrite)")

        // Root is admin: the reveal shows everything and is recorded.
        let full = try d.ctl("dispute", "show", number, "--reveal")
        #expect(full.status == 0 && full.stdout.contains("13700000001"), "\(full)")

        let table = try d.ctl("audit", "list")
        #expect(table.status == 0, "\(table)")
        for action in ["office.add", "dispute.open", "party.add", "party.reveal"] {
            #expect(table.stdout.contains(action), "\(action) missing: \(table.stdout)")
        }
        #expect(!table.stdout.contains("13700000001") && !table.stdout.contains("11010519491231002X"))
        #expect(!table.stdout.contains("dispute.risk"), "the viewer's refused change left a row")
        let filtered = try #require(
            try d.json("audit", "list", "--target", number, "--actor", "root") as? [String: Any])
        let actions = (filtered["entries"] as? [[String: Any]])?.compactMap { $0["action"] as? String }
        #expect(actions == ["party.reveal", "party.add", "dispute.open"])
        let bad = try d.ctl("audit", "list", "--limit", "0")
        #expect(bad.status == 2 && bad.stderr.contains("--limit"), "\(bad)")
        let badSince = try d.ctl("audit", "list", "--since", "last tuesday")
        #expect(badSince.status == 2 && badSince.stderr.contains("since"), "\(badSince)")

        // No path changes or removes an audit row, not even SQL on the file.
        let delete = try sqlite(d.databasePath, "DELETE FROM audit")
        #expect(delete.status != 0 && delete.stderr.contains("append-only"), "\(delete)")
        let update = try sqlite(d.databasePath, "UPDATE audit SET user = 'mallory'")
        #expect(update.status != 0 && update.stderr.contains("append-only"), "\(update)")

        // The database and its WAL are not readable by others.
        for file in [d.databasePath, d.databasePath + "-wal"] {
            var info = stat()
            #expect(stat(file, &info) == 0, "\(file)")
            #expect(info.st_mode & 0o027 == 0, "\(file) is \(String(info.st_mode & 0o777, radix: 8))")
        }

        // Closed, and (the file says) closed 40 days ago: the daemon's retention timer clears it at start.
        #expect(try d.ctl("dispute", "close", number, "--reason", "协议履行").status == 0)
        let dry = try d.ctl("retention", "run", "--dry-run")
        #expect(dry.status == 0 && dry.stdout.contains("would remove") && dry.stdout.contains("0 parties"), "\(dry)")
        d.stop()
        let moved = try sqlite(d.databasePath, "UPDATE dispute SET closed_at = closed_at - 40 * 86400")
        #expect(moved.status == 0, "\(moved)")
        try d.start()
        var cleared = false
        for _ in 0..<100 where !cleared {
            let json = try #require(try d.json("dispute", "show", number, "--reveal") as? [String: Any])
            let parties = try #require(json["parties"] as? [[String: Any]])
            cleared = parties.first?["mobile"] == nil && parties.first?["idCard"] == nil
            if !cleared { usleep(50_000) }
        }
        #expect(cleared, "retention did not run at start: \(d.log())")
        let after = try d.ctl("audit", "list", "--actor", "mediationd")
        #expect(after.stdout.contains("retention.run") && after.stdout.contains("system"), "\(after)")
        #expect(after.stdout.contains("1 parties of 1 disputes"), "\(after)")
        // The rows from before the restart are all still there.
        let everything = try #require(try d.json("audit", "list") as? [String: Any])
        let names = (everything["entries"] as? [[String: Any]])?.compactMap { $0["action"] as? String } ?? []
        #expect(names.contains("office.add") && names.contains("dispute.close") && names.contains("retention.run"))
        let report = try d.ctl("dispute", "show", number)
        #expect(report.stdout.contains("李明"), "the party's name stays: \(report)")
    }
}
