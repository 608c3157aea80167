import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a tired office worker or a careless script sends, through the real binaries.
@Suite(.serialized)
struct EdgeCaseEndToEndTests {
    @Test func aRosterWithFewerColumnsChangesOnlyThoseColumns() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        #expect(try d.ctl("expert", "deactivate", "13900000002").status == 0)
        let before = try #require(try d.json("expert", "show", "13900000001") as? [String: Any])

        let file = d.dir.appendingPathComponent("short.csv").path
        try "name,role,mobile,offices\n陈志远,律师,13900000001,jinshan\n林晓雯,律师,13900000002,hongqiao\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let r = try d.ctl("expert", "import", file)
        #expect(r.stdout.contains("created 0, updated 1, unchanged 1"), "\(r)")
        let after = try #require(try d.json("expert", "show", "13900000001") as? [String: Any])
        #expect(after["offices"] as? [String] == ["jinshan"])
        for key in ["email", "specialties", "weeklyHours", "notes", "maxSessionsPerDay", "maxSessionsPerWeek"] {
            #expect(canonical(after[key]) == canonical(before[key]), "\(key) must survive a roster without that column")
        }
        let second = try #require(try d.json("expert", "show", "13900000002") as? [String: Any])
        #expect(second["active"] as? Bool == false, "a roster without 'active' must not reactivate anyone")

        // An email that belongs to someone with another mobile is refused, and nothing changes.
        try "name,role,mobile,email,offices\n冒名,lawyer,13912345678,chen.zhiyuan@example.org,jinshan\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let clash = try d.ctl("expert", "import", file)
        #expect(clash.status == 2)
        #expect(clash.stderr.contains("line 2: email chen.zhiyuan@example.org belongs to expert #1 陈志远"), "\(clash)")
        #expect(try d.expertCount() == 30)
    }

    @Test func everyRosterProblemComesInOneAnswer() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)
        let file = d.dir.appendingPathComponent("bad.csv").path
        try "name,role,mobile,offices\n王一,lawyer,13600000001,nowhere\n王二,警察,13600000002,jinshan\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let r = try d.ctl("expert", "import", file)
        #expect(r.status == 2)
        #expect(r.stderr.contains("line 2: office 'nowhere' does not exist"), "\(r)")
        #expect(r.stderr.contains("line 3: role '警察'"), "\(r)")
        let header = d.dir.appendingPathComponent("header.csv").path
        try "\u{FEFF}姓名,角色,手机,服务警务室\r\n".write(toFile: header, atomically: true, encoding: .utf8)
        let empty = try d.ctl("expert", "import", header)
        #expect(empty.status == 0 && empty.stdout.contains("created 0, updated 0, unchanged 0"), "\(empty)")
    }

    @Test func commandLineEdgeCases() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)
        let add = try d.ctl(
            "expert", "add", "--name", "井#号", "--role", "lawyer", "--office", "jinshan", "--mobile", "13500000001",
            "--hours", "周一至周五 9：00－12：00")
        #expect(add.status == 0, "\(add)")
        let byName = try d.ctl("expert", "show", "井#号")
        #expect(byName.status == 0 && byName.stdout.contains("mon 09:00-12:00"), "\(byName)")
        #expect(try d.ctl("expert", "show", "#1").status == 0)

        let negative = try d.ctl("expert", "update", "1", "--max-per-day", "-1")
        #expect(negative.status == 2)
        // The contract bounds it (0–24), and the daemon says so naming the field before anything reads it.
        #expect(
            negative.stderr.contains("maxSessionsPerDay") && negative.stderr.contains("at least 0"), "\(negative)")
        let huge = try d.ctl("expert", "update", "1", "--max-per-day", "99999999999999999999")
        #expect(huge.status == 2, "\(huge)")

        let emptyHours = try d.ctl("expert", "update", "1", "--hours", "")
        #expect(emptyHours.status == 2)
        #expect(emptyHours.stderr.contains("--hours is empty"), "\(emptyHours)")
        let stillThere = try #require(try d.json("expert", "show", "1") as? [String: Any])
        #expect((stillThere["weeklyHours"] as? [Any])?.count == 5)
        let cleared = try d.ctl("expert", "update", "1", "--clear-hours")
        #expect(cleared.status == 0, "\(cleared)")
        let none = try #require(try d.json("expert", "show", "1") as? [String: Any])
        #expect((none["weeklyHours"] as? [Any])?.isEmpty == true)

        let folder = try runProgram(Repo.ctl, ["--socket", d.dir.path, "health"])
        #expect(folder.status == 2)
        #expect(folder.stderr.contains("is a directory"), "\(folder)")

        let gap = try d.ctl("expert", "availability", "1", "--from", "2026-12-07 10:00", "--to", "2026-12-07 10:00")
        #expect(gap.status == 2)
        #expect(gap.stderr.contains("it has no length"), "\(gap)")
    }

    @Test func httpEdgeCasesNeverAnswer500() throws {
        let d = try DaemonUnderTest()
        try d.start()
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山").status == 0)
        let big = d.dir.appendingPathComponent("big.csv").path
        _ = FileManager.default.createFile(atPath: big, contents: Data(repeating: 0x61, count: 1_100_000))
        var (code, body) = try d.curl([
            "-H", "Transfer-Encoding: chunked", "-H", "content-type: text/csv", "--data-binary", "@\(big)",
            "http://x/v1/experts/import",
        ])
        #expect(code == 413 && body.contains("payload_too_large"), "\(code) \(body)")
        (code, body) = try d.curl(["http://x/v1/experts?active=maybe"])
        #expect(code == 400 && body.contains("should be true or false"), "\(code) \(body)")
        (code, body) = try d.curl(["-X", "DELETE", "http://x/v1/experts/1/time-off/99999999999999999999"])
        #expect(code == 400 && body.contains("whole number"), "\(code) \(body)")
        (code, body) = try d.curl([
            "-X", "POST", "-H", "content-type: application/json", "-d", "[]", "http://x/v1/offices",
        ])
        #expect(code == 400 && body.contains("JSON object"), "\(code) \(body)")
        (code, body) = try d.curl(["http://x/v1/experts/1/availability?from=2026-01-01"])
        #expect(code == 400 && body.contains("required parameter"), "\(code) \(body)")
        (code, body) = try d.curl(["-X", "DELETE", "http://x/v1/offices/jinshan"])
        #expect(code == 405 && body.contains("it answers GET, HEAD, PATCH"), "\(code) \(body)")
        (code, _) = try d.curl(["-I", "http://x/v1/health"])
        #expect(code == 200)
        #expect(!d.log().contains("internal error"), "\(d.log())")
    }

    @Test func configurationTyposStopTheStart() throws {
        let d = try DaemonUnderTest(extraYAML: "acess:\n  staff_groups: [x]\n")
        let typo = try runProgram(Repo.daemon, ["--config", d.config])
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("unknown key 'acess'; did you mean 'access'?"), "\(typo)")

        let list = try DaemonUnderTest(extraYAML: "log:\n  level: [info, debug]\n")
        let shape = try runProgram(Repo.daemon, ["--config", list.config])
        #expect(shape.status == 2)
        #expect(shape.stderr.contains("log.level must be a single value"), "\(shape)")

        let good = try DaemonUnderTest()
        var env = ProcessInfo.processInfo.environment
        env["MEDIATIOND_SOCKET_IDLE_TIMEOUT_SECONDS"] = "soon"
        let soon = try runProgram(Repo.daemon, ["--config", good.config], environment: env)
        #expect(soon.status == 2)
        #expect(soon.stderr.contains("socket.idle_timeout_seconds 'soon'"), "\(soon)")
        env["MEDIATIOND_SOCKET_IDLE_TIMEOUT_SECONDS"] = nil
        env["MEDIATIOND_SOCKET_PAHT"] = "/tmp/x.sock"
        let variable = try runProgram(Repo.daemon, ["--config", good.config], environment: env)
        #expect(variable.status == 2)
        #expect(variable.stderr.contains("unknown environment variable MEDIATIOND_SOCKET_PAHT"), "\(variable)")
    }

    @Test(.enabled(if: getuid() == 0, "needs root to make a database the daemon's user cannot open"))
    func anUnreadableDatabaseSaysWhatToCheck() throws {
        let d = try DaemonUnderTest()
        try d.start()
        d.stop()
        chmod(d.dir.path, 0o777)
        let daemonCopy = d.dir.appendingPathComponent("mediationd").path
        try FileManager.default.copyItem(atPath: Repo.daemon, toPath: daemonCopy)
        let r = try runProgram(
            "/usr/bin/setpriv",
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", daemonCopy, "--config", d.config])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot open the database") || r.stderr.contains("may read and write"), "\(r)")
        #expect(!r.stderr.contains("integrity check"), "\(r)")

        // A write-ahead log left beside it (a daemon that was killed) must not turn this into advice about the
        // folder: the file itself is what the user may not read.
        let wal = d.databasePath + "-wal"
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: wal))
        chmod(wal, 0o640)
        let withLog = try runProgram(
            "/usr/bin/setpriv",
            ["--reuid=nobody", "--regid=nogroup", "--clear-groups", daemonCopy, "--config", d.config])
        #expect(withLog.status == 1)
        #expect(withLog.stderr.contains("may not read it"), "\(withLog)")
        #expect(!withLog.stderr.contains("make the folder writable"), "\(withLog)")
    }
}

/// JSON values compared by their sorted-key encoding, so dictionary order does not matter.
func canonical(_ value: Any?) -> String {
    guard let value else { return "nil" }
    guard JSONSerialization.isValidJSONObject([value]),
        let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])
    else { return "\(value)" }
    return String(decoding: data, as: UTF8.self)
}
