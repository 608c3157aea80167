import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Backups, restore, status, metrics, a full disk and SIGHUP, with the real binaries.
@Suite(.serialized)
struct OperationsEndToEndTests {
    func sqlite(_ file: String, _ sql: String) throws -> Outcome {
        try runProgram("/usr/bin/sqlite3", [file, sql])
    }

    func officeIDs(_ d: DaemonUnderTest) throws -> Set<String> {
        let object = try #require(try d.json("office", "list") as? [String: Any])
        let list = try #require(object["offices"] as? [[String: Any]])
        return Set(list.compactMap { $0["id"] as? String })
    }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    func restore(_ d: DaemonUnderTest, _ file: String) throws -> Outcome {
        try runProgram(Repo.daemon, ["restore", "--config", d.config, file])
    }

    @Test func backupWhileServingThenRestoreKeepsTheOldStore() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)

        // Writes keep being acknowledged while backups are taken.
        let backups = d.dir.appendingPathComponent("backups")
        try FileManager.default.createDirectory(at: backups, withIntermediateDirectories: true)
        let first = backups.appendingPathComponent("first.sqlite").path
        let writer = Thread {
            for i in 0..<15 { _ = try? d.ctl("office", "add", "during\(i)", "--name", "办公室\(i)") }
        }
        writer.start()
        let taken = try d.ctl("backup", "--to", first)
        #expect(taken.status == 0, "\(taken)")
        #expect(taken.stdout.contains("backup written to \(first)"), "\(taken)")
        while writer.isExecuting || !writer.isFinished { usleep(20_000) }
        #expect(mode(first) == 0o600, "a backup holds personal data: mode \(String(mode(first), radix: 8))")
        #expect(try sqlite(first, "PRAGMA integrity_check").stdout == "ok\n")
        #expect(try sqlite(first, "SELECT count(*) FROM expert").stdout == "30\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: backups.path)
        #expect(leftovers == ["first.sqlite"], "no partial file is left: \(leftovers)")
        let stateFiles = try FileManager.default.contentsOfDirectory(atPath: d.dir.appendingPathComponent("state").path)
        #expect(!stateFiles.contains { $0.contains("backup") }, "the daemon's copy is removed: \(stateFiles)")

        // Status names the backup: when, how big, by whom, where.
        let status = try #require(try d.json("status") as? [String: Any])
        let last = try #require(status["lastBackup"] as? [String: Any])
        var info = stat()
        stat(first, &info)
        #expect(last["bytes"] as? Int == Int(info.st_size))
        #expect(last["uid"] as? Int == Int(getuid()))
        #expect(last["destination"] as? String == first)
        let table = try d.ctl("status")
        #expect(table.status == 0 && table.stdout.contains("last backup:") && table.stdout.contains(first), "\(table)")

        // Bad targets are refused before anything is written.
        let exists = try d.ctl("backup", "--to", first)
        #expect(exists.status == 2 && exists.stderr.contains("exists; give --force"), "\(exists)")
        let folder = try d.ctl("backup", "--to", backups.path)
        #expect(folder.status == 2 && folder.stderr.contains("is a folder"), "\(folder)")
        let nowhere = try d.ctl("backup", "--to", "/nonexistent/dir/b.sqlite")
        #expect(nowhere.status == 2 && nowhere.stderr.contains("does not exist"), "\(nowhere)")
        let device = try d.ctl("backup", "--to", "/dev/null", "--force")
        #expect(device.status == 2 && device.stderr.contains("not a regular file"), "\(device)")

        // A change after the backup, then a restore: refused while the daemon runs.
        #expect(try d.ctl("office", "add", "later", "--name", "后来").status == 0)
        let running = try restore(d, first)
        #expect(running.status == 1 && running.stderr.contains("mediationd is running"), "\(running)")
        #expect(d.stop() == 0)
        let restored = try restore(d, first)
        #expect(restored.status == 0, "\(restored)")
        let keptLine = try #require(restored.stdout.split(separator: "\n").first { $0.contains("kept as") })
        let kept = String(keptLine.split(separator: " ").last ?? "")
        #expect(kept.contains("mediation.sqlite.before-restore-"), "\(restored)")
        #expect(try sqlite(kept, "SELECT count(*) FROM office WHERE id = 'later'").stdout == "1\n")
        #expect(!FileManager.default.fileExists(atPath: d.databasePath + "-wal"), "no stale log beside the store")
        try d.start()
        let ids = try officeIDs(d)
        #expect(!ids.contains("later"), "the store is the backup's")
        #expect(ids.isSuperset(of: ["jinshan", "xinhua", "hongqiao", "binjiang"]))
        #expect(try d.expertCount() == 30)
        // The kept store can be put back the same way.
        #expect(d.stop() == 0)
        #expect(try restore(d, kept).status == 0)
        try d.start()
        #expect(try officeIDs(d).contains("later"))
    }

    @Test func restoreRefusesWhatIsNotAWholeStoreOfThisVersion() throws {
        let d = try DaemonUnderTest()
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山警务室").status == 0)
        let good = d.dir.appendingPathComponent("good.sqlite").path
        #expect(try d.ctl("backup", "--to", good).status == 0)
        #expect(d.stop() == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: d.databasePath))

        func refused(_ file: String, _ text: String) throws {
            let r = try restore(d, file)
            #expect(r.status == 2, "\(file): \(r)")
            #expect(r.stderr.contains(text), "\(file): \(r)")
            #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack"), "\(r)")
        }
        try refused(d.dir.path, "is not a file")
        try refused(d.dir.appendingPathComponent("missing.sqlite").path, "does not exist")
        let text = d.dir.appendingPathComponent("notes.txt").path
        try "not a database\n".write(toFile: text, atomically: true, encoding: .utf8)
        try refused(text, "is not an SQLite database")
        // Half a backup: the header is there, the rest is not.
        let half = d.dir.appendingPathComponent("half.sqlite").path
        let whole = try Data(contentsOf: URL(fileURLWithPath: good))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: half))
        try refused(half, "is damaged")
        // Damaged pages: overwrite the middle of the file.
        var bytes = [UInt8](whole)
        for i in (bytes.count / 2)..<min(bytes.count, bytes.count / 2 + 8192) { bytes[i] = 0x5A }
        let corrupt = d.dir.appendingPathComponent("corrupt.sqlite").path
        try Data(bytes).write(to: URL(fileURLWithPath: corrupt))
        try refused(corrupt, "is damaged")
        let other = d.dir.appendingPathComponent("other.sqlite").path
        #expect(try sqlite(other, "CREATE TABLE t(x); INSERT INTO t VALUES (1);").status == 0)
        try refused(other, "not a Mediation Coordinator store")
        let newer = d.dir.appendingPathComponent("newer.sqlite").path
        try FileManager.default.copyItem(atPath: good, toPath: newer)
        #expect(try sqlite(newer, "INSERT INTO grdb_migrations VALUES ('v99-from-the-future')").status == 0)
        try refused(newer, "comes from a newer mediationd")

        // Nothing of that touched the store.
        #expect(try Data(contentsOf: URL(fileURLWithPath: d.databasePath)) == before)
        let beside = try FileManager.default.contentsOfDirectory(atPath: d.dir.appendingPathComponent("state").path)
        #expect(!beside.contains { $0.contains("before-restore") || $0.contains(".tmp") }, "\(beside)")
        try d.start()
        #expect(try officeIDs(d) == ["jinshan"])
    }

    @Test func backupNeedsAdminAndAFullTargetDiskIsReported() throws {
        let d = try DaemonUnderTest(socketMode: "0666")
        // nobody (group nogroup) is staff here: enough to change experts, not to take everyone's data away.
        let yaml = try String(contentsOfFile: d.config, encoding: .utf8)
        try yaml.replacingOccurrences(of: "staff_groups: [mediation-staff]", with: "staff_groups: [nogroup]")
            .write(toFile: d.config, atomically: true, encoding: .utf8)
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山警务室").status == 0)
        // A file-size limit makes the CLI's writes fail as a full disk would (EFBIG), for root and others alike.
        let target = d.dir.appendingPathComponent("limited.sqlite").path
        let limited = try runProgram(
            "/bin/sh",
            ["-c", "ulimit -f 8; exec \"$0\" --socket \"$1\" backup --to \"$2\"", Repo.ctl, d.socket, target])
        #expect(limited.status == 1, "\(limited)")
        #expect(
            limited.stderr.contains("cannot write the backup") && limited.stderr.contains("was not changed"),
            "\(limited)")
        #expect(!FileManager.default.fileExists(atPath: target))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: d.dir.path).filter {
            $0.contains("partial")
        }
        #expect(leftovers.isEmpty, "\(leftovers)")

        if getuid() == 0 {
            // Staff may not take backups: a backup holds everyone's personal data.
            let asNobody = try runProgram(
                "/usr/bin/setpriv",
                [
                    "--reuid=nobody", "--regid=nogroup", "--clear-groups", try d.ctlForOtherUsers(), "--socket",
                    d.socket,
                    "backup", "--to", "/tmp/never-\(UUID().uuidString).sqlite",
                ])
            #expect(asNobody.status == 1 && asNobody.stderr.contains("needs the admin role"), "\(asNobody)")
            let staffStatus = try runProgram(
                "/usr/bin/setpriv",
                [
                    "--reuid=nobody", "--regid=nogroup", "--clear-groups", try d.ctlForOtherUsers(), "--socket",
                    d.socket,
                    "status",
                ])
            #expect(staffStatus.status == 0, "status is a read: \(staffStatus)")
        }
        let (code, body) = try d.curl(["-X", "POST", "-H", "Origin: http://evil", "http://localhost/v1/backup"])
        #expect(code == 403, "\(body)")
    }

    @Test func statusAndMetricsDescribeTheRunningDaemon() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let outcomes = OutcomeEndToEndTests()
        let disputes = try outcomes.sessions.setUp(d, disputes: 1)
        _ = try outcomes.book(d, disputes[0])
        _ = try d.ctl("expert", "show", "陈志远")
        _ = try d.ctl("expert", "show", "nobody-such")
        _ = try d.curl(["http://localhost/v1/no/such/path/\(UUID().uuidString)"])
        // The booking's notices go to the maildir spool; wait until the dispatcher has handed some over.
        var status: [String: Any] = [:]
        for _ in 0..<200 {
            status = try #require(try d.json("status") as? [String: Any])
            if ((status["outbox"] as? [String: Any])?["sent"] as? Int ?? 0) > 0 { break }
            usleep(50_000)
        }
        #expect(status["pid"] as? Int == Int(d.process?.processIdentifier ?? -1))
        #expect((status["version"] as? String)?.isEmpty == false)
        let store = try #require(status["store"] as? [String: Any])
        #expect(store["path"] as? String == d.databasePath)
        #expect((store["bytes"] as? Int ?? 0) > 4096)
        let outbox = try #require(status["outbox"] as? [String: Any])
        let sent = outbox["sent"] as? Int ?? 0
        #expect(sent > 0, "\(status)")
        #expect(status["warnings"] as? Int == 0)
        let table = try d.ctl("status")
        #expect(table.status == 0, "\(table)")
        for line in ["version:", "pid:", "uptime:", "store:", "outbox:", "oldest due:", "last error:", "last backup:"] {
            #expect(table.stdout.contains(line), "\(line) in \(table.stdout)")
        }

        let (code, text) = try d.curl(["http://localhost/v1/metrics"])
        #expect(code == 200, "\(text)")
        // Every sample line is NAME{LABELS} VALUE, and the routes are templates, never raw paths.
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            #expect(parts.count == 2, "\(line)")
            samples[String(parts[0])] = Double(parts.last ?? "")
        }
        func value(_ name: String, _ contains: [String] = []) -> Double? {
            let hits = samples.filter { k, _ in
                (k == name || k.hasPrefix(name + "{")) && contains.allSatisfy { k.contains($0) }
            }
            return hits.isEmpty ? nil : hits.values.reduce(0, +)
        }
        let requests = "mediation_http_requests_total"
        #expect(
            value(requests, ["route=\"/v1/offices\"", "method=\"POST\"", "status=\"201\""]) == 4, "\(samples.keys)")
        #expect(value(requests, ["/v1/experts/", "method=\"GET\"", "status=\"404\""]) == 1, "\(samples.keys)")
        #expect(value(requests, ["route=\"NotFound\"", "status=\"404\""]) == 1, "\(samples.keys)")
        #expect(!samples.keys.contains { $0.contains("陈志远") || $0.contains("no/such") }, "\(samples.keys)")
        #expect(value(requests, ["route=\"/v1/status\"", "status=\"200\""]) ?? 0 >= 2)
        #expect(value("mediation_sessions_booked_total") == 1, "\(samples.keys)")
        #expect(value("mediation_outbox_messages", ["state=\"sent\""]) ?? -1 >= Double(sent))
        for state in ["pending", "failed", "dead", "skipped"] {
            #expect(value("mediation_outbox_messages", ["state=\"\(state)\""]) != nil, "\(state)")
        }
        #expect(value("mediation_delivery_latency_seconds_count", ["channel=\"maildir\""]) ?? 0 >= Double(sent))
        #expect(value("mediation_delivery_latency_seconds_bucket", ["le=\"+Inf\""]) ?? 0 >= Double(sent))
        // The one booking went through group commit: one write in one round, and the writer's time is counted.
        #expect(value("mediation_group_commit_writes_total") == 1, "\(samples.keys)")
        #expect(value("mediation_group_commit_rounds_total") == 1)
        #expect(value("mediation_group_commit_failed_rounds_total") == 0)
        #expect(value("mediation_group_commit_run_seconds_total") ?? 0 > 0)
        #expect(value("mediation_group_commit_commit_seconds_total") ?? 0 > 0)
        #expect(text.contains("# TYPE mediation_group_commit_rounds_total counter"))
    }

    @Test func sighupReloadsFollowUpsAndRefusesABrokenFileWithOneLine() throws {
        let d = try DaemonUnderTest(movableClock: true)
        try d.start()
        let pid = d.process?.processIdentifier ?? 0
        let outcomes = OutcomeEndToEndTests()
        let disputes = try outcomes.sessions.setUp(d, disputes: 2)
        let held = try disputes.map { try outcomes.book(d, $0) }
        // Both sessions are held: the daemon's clock moves to the later one's start.
        try d.setClock(to: try held.map { try d.sessionStart($0) }.max() ?? Date())
        for session in held {
            #expect(try d.ctl("session", "start", String(session)).status == 0)
            #expect(try d.ctl("session", "end", String(session)).status == 0)
        }
        func visits(_ session: Int) throws -> [Int?] {
            let recorded = try #require(
                try d.json("outcome", "record", String(session), "agreement", "--terms", "和解") as? [String: Any])
            return try #require(recorded["followUps"] as? [[String: Any]]).map { $0["offsetDays"] as? Int }
        }
        func waitForLog(_ text: String, count: Int) -> [Substring] {
            var lines: [Substring] = []
            for _ in 0..<100 where lines.count < count {
                usleep(50_000)
                lines = d.log().split(separator: "\n").filter { $0.contains(text) }
            }
            return lines
        }
        let yaml = try String(contentsOfFile: d.config, encoding: .utf8)
        // A broken file: the daemon keeps serving under the rules it had, and says why in one line.
        try (yaml + "\nfollowups:\n  after_agreement_days: [3, soon]\n").write(
            toFile: d.config, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        let refused = waitForLog("reload refused", count: 1)
        #expect(refused.count == 1, "\(d.log())")
        #expect(
            refused.first?.contains("followups.after_agreement_days: 'soon' is not a whole number") == true,
            "\(refused)")
        #expect(try visits(held[0]) == [3, 30], "the old plan stays")
        // A good change takes effect for the next outcome.
        try (yaml + "\nfollowups:\n  after_agreement_days: [5]\n").write(
            toFile: d.config, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(waitForLog("configuration reloaded", count: 1).count == 1, "\(d.log())")
        #expect(try visits(held[1]) == [5])
        #expect(d.process?.isRunning == true)
        #expect(
            d.log().split(separator: "\n").filter { $0.contains("reload refused") }.count == 1, "one line per refusal")
    }

    @Test func aFullDiskRefusesWritesClearlyKeepsReadsAndLosesNothingAcknowledged() throws {
        let d = try DaemonUnderTest()
        let disk = DaemonOnSmallDisk(d, size: "16m")
        try disk.start()
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        #expect(try disk.fill() > 0)

        // Writes go on until the log has nowhere to grow; every answer is either acknowledged or a clear refusal.
        var acknowledged: [String] = []
        var refusal: Outcome?
        for i in 0..<400 where refusal == nil {
            let r = try d.ctl(
                "office", "add", "full\(i)", "--name", "满盘\(i)", "--address", String(repeating: "长", count: 200))
            if r.status == 0 { acknowledged.append("full\(i)") } else { refusal = r }
        }
        let refused = try #require(refusal, "the disk never filled: \(acknowledged.count) writes went through")
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("cannot be written: disk full at \(disk.state)"), "\(refused)")
        #expect(refused.stderr.contains("free space and retry"), "\(refused)")
        let (code, body) = try d.curl([
            "-X", "POST", "-H", "Content-Type: application/json", "--data", #"{"id":"curl","name":"x"}"#,
            "http://localhost/v1/offices",
        ])
        #expect(code == 503 && body.contains("\"unavailable\"") && body.contains("disk full"), "\(code) \(body)")

        // Reads go on; status says changes are refused, and why.
        #expect(try d.expertCount() == 30)
        #expect(try d.ctl("health").status == 0)
        let store = try #require((try d.json("status") as? [String: Any])?["store"] as? [String: Any])
        #expect(store["writable"] as? Bool == false, "\(store)")
        #expect((store["problem"] as? String)?.contains("disk full at \(disk.state)") == true, "\(store)")
        let words = try d.ctl("status")
        #expect(words.status == 0 && words.stdout.contains("writable:    NO, changes are refused"), "\(words)")
        let during = try officeIDs(d)
        #expect(during.isSuperset(of: acknowledged) && !during.contains("curl"))
        // A backup still works: the copy goes to the temporary folder when the store's disk is full.
        let whileFull = d.dir.appendingPathComponent("while-full.sqlite").path
        let backup = try d.ctl("backup", "--to", whileFull)
        #expect(backup.status == 0, "\(backup)")

        // Space freed, writes work again; then the daemon stops and its disk is gone: the last backup holds every
        // acknowledged change, and a daemon restored from it on an ordinary disk serves them all.
        disk.free()
        #expect(try d.ctl("office", "add", "afterwards", "--name", "之后").status == 0)
        let again = try #require((try d.json("status") as? [String: Any])?["store"] as? [String: Any])
        #expect(again["writable"] as? Bool == true && again["problem"] == nil, "\(again)")
        let final = d.dir.appendingPathComponent("final.sqlite").path
        #expect(try d.ctl("backup", "--to", final).status == 0)
        #expect(disk.stop() == 0, "\(d.log())")
        let restored = try restore(d, final)
        #expect(restored.status == 0, "\(restored)")
        try d.start()
        let after = try officeIDs(d)
        #expect(after.isSuperset(of: acknowledged + ["afterwards", "jinshan"]), "\(after)")
        #expect(!after.contains("full\(acknowledged.count)"), "the refused write is not there")
        #expect(try d.expertCount() == 30)
        #expect(try sqlite(whileFull, "PRAGMA integrity_check").stdout == "ok\n")
        #expect(try sqlite(whileFull, "SELECT count(*) FROM office").stdout == "\(4 + acknowledged.count)\n")
    }

    @Test func aReadOnlyStoreServesReadsAndRefusesChangesClearly() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        #expect(d.stop() == 0)
        let readOnly = DaemonOnSmallDisk(d, size: nil)
        try readOnly.start()
        #expect(d.log().contains("the store is read-only: serving reads only"), "\(d.log())")
        #expect(try officeIDs(d) == ["jinshan", "xinhua", "hongqiao", "binjiang"])
        #expect(try d.expertCount() == 30)
        let add = try d.ctl("office", "add", "later", "--name", "后来")
        #expect(add.status == 1, "\(add)")
        #expect(add.stderr.contains("cannot be written: \(d.databasePath) is read-only"), "\(add)")
        let status = try #require(try d.json("status") as? [String: Any])
        #expect((status["store"] as? [String: Any])?["writable"] as? Bool == false)
        #expect(try d.ctl("status").stdout.contains("writable:    NO, changes are refused"))
        // The data can still be copied off.
        let copy = d.dir.appendingPathComponent("from-read-only.sqlite").path
        let backup = try d.ctl("backup", "--to", copy)
        #expect(backup.status == 0, "\(backup)")
        #expect(try sqlite(copy, "SELECT count(*) FROM expert").stdout == "30\n")
        #expect(readOnly.stop() == 0, "\(d.log())")
        // Writable again: the daemon takes changes, and the refused one never happened.
        try d.start()
        #expect(try officeIDs(d) == ["jinshan", "xinhua", "hongqiao", "binjiang"])
        #expect(try d.ctl("office", "add", "later", "--name", "后来").status == 0)
    }
}

extension OperationsEndToEndTests {
    /// A restart on a full disk was called a damaged store ("failed its integrity check … restore the last backup,
    /// or move the file aside": advice that loses data). It now serves the store read-only and says the disk is
    /// full; once space is freed, a restart opens it as usual with everything in it. Both ways a daemon can have
    /// left the store: killed with changes still in the log, and stopped cleanly (the log folded in and removed).
    @Test func aRestartOnAFullDiskServesReadOnlyAndLosesNothing() throws {
        let d = try DaemonUnderTest()
        let disk = try SmallDiskThatOutlivesTheDaemon(d, size: "16m")
        try disk.startDaemon()
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        #expect(try disk.fill() > 0)
        var acknowledged: [String] = []
        for i in 0..<400 {
            let r = try d.ctl(
                "office", "add", "full\(i)", "--name", "满盘\(i)", "--address", String(repeating: "长", count: 200))
            guard r.status == 0 else { break }
            acknowledged.append("full\(i)")
        }
        let expected = Set(["jinshan", "xinhua", "hongqiao", "binjiang"] + acknowledged)

        func expectReadOnlyOnAFullDisk(_ when: String) throws {
            let said = "the store is read-only: serving reads only"
            let before = d.log().components(separatedBy: said).count
            try disk.startDaemon()
            let log = d.log()
            #expect(log.components(separatedBy: said).count == before + 1, "\(when): \(log.suffix(2000))")
            #expect(log.contains("the disk holding \(disk.state) is full"), "\(when): \(log.suffix(2000))")
            #expect(!d.log().contains("integrity check"), "\(when)")
            #expect(try officeIDs(d) == expected, "\(when)")
            #expect(try d.expertCount() == 30, "\(when)")
            let store = try #require((try d.json("status") as? [String: Any])?["store"] as? [String: Any])
            #expect(store["writable"] as? Bool == false, "\(when): \(store)")
            #expect(
                (store["problem"] as? String)?.contains("the disk holding \(disk.state) is full: free space there")
                    == true,
                "\(when): \(store)")
            let words = try d.ctl("status")
            #expect(words.stdout.contains("writable:    NO, changes are refused"), "\(when): \(words)")
            let add = try d.ctl("office", "add", "refused", "--name", "拒绝")
            #expect(add.status == 1, "\(when): \(add)")
            #expect(
                add.stderr.contains(
                    "cannot be written: the disk holding \(disk.state) is full: free space there, "
                        + "then restart mediationd"), "\(when): \(add)")
            #expect(d.stop() == 0, "\(when): \(d.log().suffix(2000))")
        }

        // Killed with the disk full: the last changes are still in the log.
        kill(try #require(d.process?.processIdentifier), SIGKILL)
        d.process?.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: disk.inside + "/mediation.sqlite-wal"))
        #expect(try disk.fill() >= 0)
        try expectReadOnlyOnAFullDisk("killed")

        // Space freed: a normal start, everything there; then a clean stop, and the disk fills again.
        disk.free()
        try disk.startDaemon()
        #expect(try officeIDs(d) == expected)
        #expect(d.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: disk.inside + "/mediation.sqlite-wal"), "the log was folded in")
        #expect(try disk.fill() > 0)
        try expectReadOnlyOnAFullDisk("stopped")

        disk.free()
        try disk.startDaemon()
        #expect(try officeIDs(d) == expected)
        #expect(try d.ctl("office", "add", "afterwards", "--name", "之后").status == 0)
        let store = try #require((try d.json("status") as? [String: Any])?["store"] as? [String: Any])
        #expect(store["writable"] as? Bool == true, "\(store)")
        #expect(try sqlite(disk.inside + "/mediation.sqlite", "PRAGMA integrity_check").stdout == "ok\n")
    }
}

/// A small tmpfs in a mount namespace of its own, held by a sleeping process, so that it outlives the daemons
/// started in it one after another (`nsenter`): a test can stop a daemon, fill the disk and start another.
final class SmallDiskThatOutlivesTheDaemon: @unchecked Sendable {
    let d: DaemonUnderTest
    private let holder: Process

    init(_ d: DaemonUnderTest, size: String) throws {
        self.d = d
        try FileManager.default.createDirectory(
            atPath: d.dir.appendingPathComponent("state").path, withIntermediateDirectories: true)
        holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        holder.arguments =
            (getuid() == 0 ? ["-m"] : ["-Urm"])
            + [
                "--propagation", "private", "/bin/sh", "-c",
                #"mount -t tmpfs -o size="$1",mode=0755 tmpfs "$2" && touch "$2/.mounted" && exec sleep 100000"#,
                "sh", size, d.dir.appendingPathComponent("state").path,
            ]
        holder.standardInput = FileHandle.nullDevice
        try holder.run()
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: inside + "/.mounted") {
            guard Date() < deadline, holder.isRunning else { throw HarnessError("the small disk was not mounted") }
            usleep(20_000)
        }
    }

    var state: String { d.dir.appendingPathComponent("state").path }
    /// The state folder as the daemons see it.
    var inside: String { "/proc/\(holder.processIdentifier)/root" + state }

    /// Starts mediationd on the small disk and waits until it serves.
    func startDaemon() throws {
        try d.start(
            executable: "/usr/bin/nsenter",
            arguments: ["-t", "\(holder.processIdentifier)", "-m"]
                + (getuid() == 0 ? [] : ["-U", "--preserve-credentials"])
                + ["--", Repo.daemon, "--config", d.config])
    }

    /// Writes to a file until the disk is full; returns the bytes written.
    func fill() throws -> Int {
        let fd = open(inside + "/filler", O_CREAT | O_WRONLY | O_APPEND, 0o600)
        guard fd >= 0 else { throw HarnessError("cannot create the filler: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0xAB, count: 4096)
        var total = 0
        while true {
            let wrote = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if wrote <= 0 { break }
            total += wrote
        }
        guard errno == ENOSPC else { throw HarnessError("filling stopped with \(String(cString: strerror(errno)))") }
        return total
    }

    func free() { unlink(inside + "/filler") }

    deinit {
        d.stop()
        terminateAndWait(holder)
    }
}

/// mediationd in its own mount namespace with its state folder on a small tmpfs, so a test can fill that disk
/// without touching the machine's. Root uses `unshare -m`; another user `unshare -Urm` (a user namespace of its
/// own, where it may mount), so the test runs the same way for both.
final class DaemonOnSmallDisk: @unchecked Sendable {
    let d: DaemonUnderTest
    /// The tmpfs size, or nil for the state folder itself made read-only (a bind mount remounted ro).
    let size: String?
    private var process: Process?

    init(_ d: DaemonUnderTest, size: String?) {
        self.d = d
        self.size = size
    }

    var state: String { d.dir.appendingPathComponent("state").path }
    /// The state folder as the daemon sees it.
    var inside: String { "/proc/\(process?.processIdentifier ?? 0)/root" + state }

    func start() throws {
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let script =
            size == nil
            ? #"mount --bind "$2" "$2" && mount -o remount,bind,ro "$2" && exec "$3" --config "$4""#
            : #"mount -t tmpfs -o size="$1",mode=0755 tmpfs "$2" && exec "$3" --config "$4""#
        process = try d.launch(
            "/usr/bin/unshare",
            (getuid() == 0 ? ["-m"] : ["-Urm"])
                + [
                    "--propagation", "private", "/bin/sh", "-c", script, "sh", size ?? "-", state, Repo.daemon,
                    d.config,
                ],
            what: "mediationd on a small disk")
    }

    /// Writes a file until the disk is full; returns the bytes written.
    func fill() throws -> Int {
        let fd = open(inside + "/filler", O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        guard fd >= 0 else { throw HarnessError("cannot create the filler: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0xAB, count: 64 * 1024)
        var total = 0
        while true {
            let wrote = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if wrote <= 0 { break }
            total += wrote
        }
        guard errno == ENOSPC else { throw HarnessError("filling stopped with \(String(cString: strerror(errno)))") }
        return total
    }

    func free() { unlink(inside + "/filler") }

    @discardableResult
    func stop() -> Int32 {
        terminateAndWait(process)
    }

    deinit { stop() }
}
