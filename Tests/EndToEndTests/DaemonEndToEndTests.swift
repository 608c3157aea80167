import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real mediationd driven by the real mediationctl; each test has its own directory and daemon.
@Suite(.serialized)
struct DaemonEndToEndTests {
    /// Lawyers in the sample roster, counted from the file itself (the role is the second column).
    func sampleCount(role: String) throws -> Int {
        let text = try String(contentsOfFile: Repo.sampleRoster, encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).dropFirst().filter { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return fields.count > 1 && fields[1] == role
        }.count
    }

    @Test func importListUpdateDeactivateAndRestartKeepsEverything() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)

        let dry = try d.ctl("expert", "import", Repo.sampleRoster, "--dry-run")
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.stdout.contains("would create 30"), "\(dry)")
        #expect(try d.expertCount() == 0, "a dry run must write nothing")

        let real = try d.ctl("expert", "import", Repo.sampleRoster)
        #expect(real.status == 0, "\(real)")
        #expect(real.stdout.contains("created 30, updated 0, unchanged 0"), "\(real)")
        let again = try d.ctl("expert", "import", Repo.sampleRoster)
        #expect(again.stdout.contains("created 0, updated 0, unchanged 30"), "re-import must change nothing: \(again)")

        let lawyers = try sampleCount(role: "律师")
        #expect(lawyers > 0)
        #expect(try d.expertCount("--role", "lawyer") == lawyers)
        #expect(try d.expertCount("--role", "律师") == lawyers)

        let table = try d.ctl("expert", "list", "--role", "lawyer")
        #expect(table.status == 0)
        #expect(table.stdout.contains("陈志远"))
        #expect(table.stdout.contains("\(lawyers) experts"))

        // Update by mobile, deactivate by name.
        let update = try d.ctl("expert", "update", "13900000001", "--max-per-week", "3", "--specialty", "property,debt")
        #expect(update.status == 0, "\(update)")
        let inactiveInSample = try d.expertCount("--inactive")
        let off = try d.ctl("expert", "deactivate", "林晓雯")
        #expect(off.status == 0, "\(off)")
        #expect(try d.expertCount("--inactive") == inactiveInSample + 1)
        #expect(try d.expertCount("--active") == 30 - inactiveInSample - 1)

        // Leave, and free time that honours it.
        let leave = try d.ctl(
            "expert", "leave", "add", "陈志远", "--from", "2026-12-07", "--to", "2026-12-07", "--reason", "出差")
        #expect(leave.status == 0, "\(leave)")

        #expect(d.stop() == 0, "graceful stop exits 0: \(d.log())")
        #expect(!FileManager.default.fileExists(atPath: d.socket), "the socket is removed on shutdown")
        try d.start()

        #expect(try d.expertCount() == 30)
        #expect(try d.expertCount("--inactive") == inactiveInSample + 1)
        let shown = try #require(try d.json("expert", "show", "13900000001") as? [String: Any])
        #expect(shown["maxSessionsPerWeek"] as? Int == 3)
        #expect(shown["specialties"] as? [String] == ["debt", "property"])
        let free = try #require(
            try d.json("expert", "availability", "陈志远", "--from", "2026-12-07", "--to", "2026-12-13") as? [String: Any])
        let intervals = try #require(free["intervals"] as? [[String: Any]])
        // Weekly hours mon/wed 19:00-21:00 and sat 09:00-12:00; Monday is on leave.
        #expect(intervals.map { $0["date"] as? String } == ["2026-12-09", "2026-12-12"])
        #expect(free["totalMinutes"] as? Int == 120 + 180)

        // Export with the full mobiles (root is admin, a reveal role), then import the export: nothing changes.
        let exported = d.dir.appendingPathComponent("export.csv").path
        let export = try d.ctl("expert", "export", "--reveal", "--output", exported)
        #expect(export.status == 0, "\(export)")
        let back = try d.ctl("expert", "import", exported)
        #expect(back.stdout.contains("created 0, updated 0, unchanged 30"), "\(back)")
    }

    @Test func badInputIsRefusedWithAClearMessageAndNothingWritten() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)
        let base = ["expert", "add", "--name", "测试", "--office", "jinshan", "--mobile", "13700000001"]
        let cases: [(args: [String], message: String)] = [
            (base + ["--role", "judge"], "role 'judge' is unknown"),
            (
                [
                    "expert", "add", "--name", "测试", "--role", "lawyer", "--office", "nowhere", "--mobile",
                    "13700000001",
                ],
                "office 'nowhere' does not exist"
            ),
            (
                base + ["--role", "lawyer", "--time-zone", "Asia/Shangai"],
                "time zone 'Asia/Shangai' is not a known IANA zone"
            ),
            (base + ["--role", "lawyer", "--hours", "mon 12:00-09:00"], "ends before it starts"),
            (base + ["--role", "lawyer", "--hours", "mon 09:00-12:00 11:00-13:00"], "overlaps"),
            (base + ["--role", "lawyer", "--max-per-day=-1"], "'maxSessionsPerDay' is -1; it must be at least 0"),
            (base + ["--role", "lawyer", "--max-per-week=-3"], "'maxSessionsPerWeek' is -3; it must be at least 0"),
            (["office", "add", "xuhui", "--name", "徐汇", "--time-zone", "Mars/Olympus"], "not a known IANA zone"),
        ]
        for c in cases {
            let r = try d.ctl(args: c.args)
            #expect(r.status == 2, "\(c.args): \(r)")
            #expect(r.stderr.contains(c.message), "\(c.args) should say '\(c.message)': \(r)")
            #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("internal"), "\(r)")
        }
        #expect(try d.expertCount() == 0)

        let first = try d.ctl(args: base + ["--role", "lawyer"])
        #expect(first.status == 0, "\(first)")
        let duplicate = try d.ctl(args: [
            "expert", "add", "--name", "另一位", "--role", "retiree", "--office", "jinshan", "--mobile", "137 0000 0001",
        ])
        #expect(duplicate.status == 2)
        #expect(duplicate.stderr.contains("already belongs to expert #1 测试"), "\(duplicate)")
        #expect(try d.expertCount() == 1)

        let backwards = try d.ctl("expert", "leave", "add", "1", "--from", "2026-12-10", "--to", "2026-12-09")
        #expect(backwards.status == 2)
        #expect(backwards.stderr.contains("time off ends before it starts"), "\(backwards)")
        let noLeave = try #require(try d.json("expert", "leave", "list", "1") as? [String: Any])
        #expect((noLeave["spans"] as? [Any])?.isEmpty == true)

        let unknown = try d.ctl("expert", "show", "nobody-like-this")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no expert 'nobody-like-this'"))
    }

    @Test func malformedRostersReportEveryLineAndWriteNothing() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)
        let file = d.dir.appendingPathComponent("bad.csv").path
        let csv = """
            name,role,mobile,offices,weekly_hours
            王一,lawyer,13600000001,jinshan,mon 09:00-12:00
            王二,judge,13600000002,jinshan,
            ,lawyer,13600000003,jinshan,
            王四,lawyer,13600000004,jinshan
            王五,retiree,13600000005,nowhere,

            """
        try csv.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try d.ctl("expert", "import", file)
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("line 3: role 'judge'"), "\(r)")
        #expect(r.stderr.contains("line 4: name (姓名) is empty"), "\(r)")
        #expect(r.stderr.contains("line 5: 4 fields, but the header has 5"), "\(r)")
        #expect(r.stderr.contains("nothing was imported"), "\(r)")
        #expect(try d.expertCount() == 0)

        // Only the unknown office left: found by the store, with its line.
        let officeOnly = """
            name,role,mobile,offices
            王一,lawyer,13600000001,jinshan
            王五,retiree,13600000005,nowhere
            """
        try officeOnly.write(toFile: file, atomically: true, encoding: .utf8)
        let o = try d.ctl("expert", "import", file)
        #expect(o.status == 2)
        #expect(o.stderr.contains("line 3: office 'nowhere' does not exist"), "\(o)")
        #expect(try d.expertCount() == 0)

        // GBK bytes (what Excel writes by default in China) on line 2.
        var bytes = Array("name,role,mobile,offices\r\n".utf8)
        bytes += [0xCD, 0xF5, 0xD2, 0xBB] + Array(",lawyer,13600000001,jinshan\r\n".utf8)
        _ = FileManager.default.createFile(atPath: file, contents: Data(bytes))
        let g = try d.ctl("expert", "import", file)
        #expect(g.status == 2)
        #expect(g.stderr.contains("line 2: the file is not UTF-8"), "\(g)")
        #expect(try d.expertCount() == 0)

        let missing = try d.ctl("expert", "import", "/nonexistent/roster.csv")
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot read /nonexistent/roster.csv"))
    }

    @Test func httpErrorsOverTheRealSocket() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let url = "http://localhost/v1/offices"
        let json = ["-H", "content-type: application/json"]
        var (code, body) = try d.curl(["-X", "POST"] + json + ["-d", "{\"id\": \"a", url])
        #expect(code == 400 && body.contains("not valid JSON"), "\(code) \(body)")
        (code, body) = try d.curl(
            ["-X", "POST"] + json + ["-d", "{\"id\":\"jinshan\",\"name\":\"x\",\"colour\":\"red\"}", url])
        #expect(code == 400 && body.contains("colour"), "\(code) \(body)")
        let big = d.dir.appendingPathComponent("big.json").path
        _ = FileManager.default.createFile(atPath: big, contents: Data(repeating: 0x20, count: (1 << 20) + 10))
        (code, body) = try d.curl(["-X", "POST"] + json + ["--data-binary", "@\(big)", url])
        #expect(code == 413 && body.contains("payload_too_large"), "\(code) \(body)")
        (code, body) = try d.curl(["http://localhost/v1/nothing-here"])
        #expect(code == 404 && body.contains("/v1/experts/{expert}/availability"), "\(code) \(body)")
        (code, body) = try d.curl(["-H", "Origin: http://evil.example", "http://localhost/v1/health"])
        #expect(code == 403 && body.contains("web pages"), "\(code) \(body)")
        (code, body) = try d.curl(["http://localhost/v1/openapi.yaml"])
        #expect(code == 200 && body.hasPrefix("openapi: 3.1.0"), "\(code)")
        (code, body) = try d.curl(["-H", "x-mediationd-peer: 1 4242 4242", "http://localhost/v1/health"])
        #expect(code == 200)
        let health = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let caller = health?["caller"] as? [String: Any]
        #expect(caller?["uid"] as? Int == Int(getuid()), "the daemon's own stamp wins over a forged one: \(body)")
        #expect(caller?["pid"] as? Int != 1, "\(body)")
        #expect(!d.log().contains("internal error"), "\(d.log())")
    }

    @Test(.enabled(if: getuid() == 0, "needs root to run the client as another user"))
    func callersOutsideEveryGroupAreRefused() throws {
        // Mode 0666 so the kernel lets nobody connect: the daemon itself must refuse.
        let d = try DaemonUnderTest(socketMode: "0666", viewerGroups: ["mediation-viewer"])
        try d.start()
        let asNobody = [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", try d.ctlForOtherUsers(), "--socket", d.socket,
        ]
        let refused = try runProgram("/usr/bin/setpriv", asNobody + ["health"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("may not use mediationd"), "\(refused)")
        #expect(refused.stderr.contains("mediation-admin (admin), mediation-staff (staff), mediation-viewer (viewer)"))
        #expect(d.log().contains("refused"))

        // The same uid in a group mapped to viewer may read but not write.
        let viewer = try DaemonUnderTest(socketMode: "0666", viewerGroups: ["nogroup"])
        try viewer.start()
        let asViewer = [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", try viewer.ctlForOtherUsers(), "--socket",
            viewer.socket,
        ]
        let health = try runProgram("/usr/bin/setpriv", asViewer + ["health"])
        #expect(health.status == 0, "\(health)")
        #expect(health.stdout.contains("role viewer"), "\(health)")
        let write = try runProgram("/usr/bin/setpriv", asViewer + ["office", "add", "jinshan", "--name", "金山"])
        #expect(write.status == 1)
        #expect(write.stderr.contains("needs the admin role"), "\(write)")
        let offices = try #require(try viewer.json("office", "list") as? [String: Any])
        #expect((offices["offices"] as? [Any])?.isEmpty == true, "the refused write left nothing")
    }

    @Test func aSecondDaemonDoesNotStealTheSocket() throws {
        let d = try DaemonUnderTest()
        try d.start()
        let second = try runProgram(Repo.daemon, ["--config", d.config])
        #expect(second.status == 1)
        #expect(second.stderr.contains("another mediationd is already serving \(d.socket)"), "\(second)")
        #expect(socketAnswers(d.socket), "the first daemon still serves")
        let health = try d.ctl("health")
        #expect(health.status == 0)

        // A socket left by a killed daemon is replaced. SIGKILL alone: a SIGINT first could let the daemon shut down
        // cleanly (and remove its socket) before the kill lands.
        kill(d.process?.processIdentifier ?? 0, SIGKILL)
        d.process?.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: d.socket))
        try d.start()
        #expect(try d.ctl("health").status == 0)
    }

    @Test func aDamagedDatabaseStopsTheStartWithWhatToDo() throws {
        let d = try DaemonUnderTest()
        try FileManager.default.createDirectory(
            atPath: (d.databasePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: d.databasePath, contents: Data(repeating: 0xAB, count: 16384))
        let r = try runProgram(Repo.daemon, ["--config", d.config])
        #expect(r.status == 1, "\(r)")
        #expect(r.stderr.contains(d.databasePath) && r.stderr.contains("restore the last backup"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: d.socket))
    }

    @Test func badConfigurationIsAUsageError() throws {
        let missing = try runProgram(Repo.daemon, ["--config", "/nonexistent/mediationd.yaml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("configuration file /nonexistent/mediationd.yaml does not exist"))
        let d = try DaemonUnderTest(socketMode: "rw-rw----")
        let bad = try runProgram(Repo.daemon, ["--config", d.config])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("socket.mode 'rw-rw----' is not an octal mode"), "\(bad)")
        // The environment overrides the file: a good file with a bad variable fails on the variable,
        // and a bad file with a good variable starts.
        let good = try DaemonUnderTest()
        let env = try runProgram(
            Repo.daemon, ["--config", good.config],
            environment: ProcessInfo.processInfo.environment.merging(["MEDIATIOND_LOG_LEVEL": "loud"]) { $1 })
        #expect(env.status == 2)
        #expect(env.stderr.contains("log.level 'loud' is unknown"), "\(env)")
        let fixed = try DaemonUnderTest(socketMode: "rw-rw----")
        try fixed.start(environment: ["MEDIATIOND_SOCKET_MODE": "0600"])
        var info = stat()
        #expect(stat(fixed.socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600, "the socket mode comes from the environment")
    }

    @Test func systemdHearsReadyWatchdogAndStopping() throws {
        let d = try DaemonUnderTest()
        let notifyPath = d.dir.appendingPathComponent("notify.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(notifyPath.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func receive() -> String? {
            var buffer = [UInt8](repeating: 0, count: 512)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
        }
        try d.start(environment: ["NOTIFY_SOCKET": notifyPath, "WATCHDOG_USEC": "400000"])
        var messages: [String] = []
        while messages.filter({ $0.contains("WATCHDOG=1") }).count < 2, let m = receive() { messages.append(m) }
        #expect(messages.contains { $0.hasPrefix("READY=1") }, "\(messages)")
        #expect(messages.filter { $0.contains("WATCHDOG=1") }.count >= 2, "\(messages)")
        d.stop()
        var rest: [String] = []
        while let m = receive() {
            rest.append(m)
            if m.contains("STOPPING=1") { break }
        }
        #expect(rest.contains("STOPPING=1"), "\(rest)")
    }

    @Test(.enabled(if: getuid() == 0, "needs root to run the client as another user"))
    func sighupReloadsAccessRulesAndKeepsTheOldOnesWhenTheFileIsBad() throws {
        let d = try DaemonUnderTest(socketMode: "0666", viewerGroups: ["mediation-viewer"])
        try d.start()
        let asNobody = [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", try d.ctlForOtherUsers(), "--socket", d.socket,
            "health",
        ]
        #expect(try runProgram("/usr/bin/setpriv", asNobody).status == 1)
        var yaml = try String(contentsOfFile: d.config, encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "viewer_groups: [mediation-viewer]", with: "viewer_groups: [nogroup]")
        try yaml.write(toFile: d.config, atomically: true, encoding: .utf8)
        kill(d.process?.processIdentifier ?? 0, SIGHUP)
        var allowed = false
        for _ in 0..<100 where !allowed {
            usleep(50_000)
            allowed = try runProgram("/usr/bin/setpriv", asNobody).status == 0
        }
        #expect(allowed, "after SIGHUP nogroup is viewer: \(d.log())")
        // A broken file is refused and the rules in force stay.
        try (yaml + "\nlog:\n  level: loud\n").write(toFile: d.config, atomically: true, encoding: .utf8)
        kill(d.process?.processIdentifier ?? 0, SIGHUP)
        var logged = false
        for _ in 0..<100 where !logged {
            usleep(50_000)
            logged = d.log().contains("reload refused")
        }
        #expect(logged, "\(d.log())")
        #expect(try runProgram("/usr/bin/setpriv", asNobody).status == 0)
        #expect(d.process?.isRunning == true)
    }

    @Test func systemdAbstractNotifySocketWorksToo() throws {
        let d = try DaemonUnderTest()
        let name = "mediationd-test-\(UUID().uuidString.prefix(8))"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = [UInt8(0)] + Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        #expect(bound == 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try d.start(environment: ["NOTIFY_SOCKET": "@" + name])
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &buffer, buffer.count, 0)
        #expect(n > 0 && String(decoding: buffer[0..<max(n, 0)], as: UTF8.self).hasPrefix("READY=1"))
    }

    @Test func availabilityIsRightOnDaylightSavingDays() throws {
        let d = try DaemonUnderTest()
        try d.start()
        #expect(try d.ctl("office", "add", "berlin", "--name", "Berlin", "--time-zone", "Europe/Berlin").status == 0)
        let add = try d.ctl(
            "expert", "add", "--name", "Anna Schmidt", "--role", "lawyer", "--office", "berlin", "--email",
            "anna@example.org", "--time-zone", "Europe/Berlin", "--hours", "sun 01:00-04:00; mon 09:00-17:00")
        #expect(add.status == 0, "\(add)")
        // Spring forward on 2026-03-29: 01:00-04:00 local is two real hours; Monday starts at 07:00Z.
        let spring = try #require(
            try d.json("expert", "availability", "anna@example.org", "--from", "2026-03-29", "--to", "2026-03-30")
                as? [String: Any])
        let springIntervals = try #require(spring["intervals"] as? [[String: Any]])
        #expect(springIntervals.first?["start"] as? String == "2026-03-29T01:00:00+01:00")
        #expect(springIntervals.first?["end"] as? String == "2026-03-29T04:00:00+02:00")
        #expect(springIntervals.first?["minutes"] as? Int == 120)
        #expect(springIntervals.last?["start"] as? String == "2026-03-30T09:00:00+02:00")
        // Fall back on 2026-10-25: the same rule is four real hours.
        let autumn = try #require(
            try d.json("expert", "availability", "Anna Schmidt", "--from", "2026-10-25", "--to", "2026-10-25")
                as? [String: Any])
        #expect(autumn["totalMinutes"] as? Int == 240)
        let table = try d.ctl("expert", "availability", "Anna Schmidt", "--from", "2026-03-29", "--to", "2026-03-30")
        #expect(table.stdout.contains("2026-03-29  sun  01:00  04:00  2.0"), "\(table)")
    }

    @Test(.enabled(if: getuid() == 0, "needs root to hand the socket to another group"))
    func theSocketTakesTheConfiguredGroupAndMode() throws {
        let d = try DaemonUnderTest(socketMode: "0660")
        try d.start(environment: ["MEDIATIOND_SOCKET_GROUP": "nogroup"])
        var info = stat()
        #expect(stat(d.socket, &info) == 0)
        #expect(info.st_gid == getgrnam("nogroup").pointee.gr_gid)
        #expect(info.st_mode & 0o777 == 0o660)
        // A member of that group now reaches the socket, and the daemon still decides: refused.
        let asNobody = [
            "--reuid=nobody", "--regid=nogroup", "--clear-groups", try d.ctlForOtherUsers(), "--socket", d.socket,
            "health",
        ]
        let r = try runProgram("/usr/bin/setpriv", asNobody)
        #expect(r.status == 1)
        #expect(r.stderr.contains("may not use mediationd"), "\(r)")
    }

    /// Runs the daemon that must not start, with `environment` over this process's (as `user`, when given): its
    /// outcome. One that serves instead is stopped after 20 s (exit 124).
    func refusedStart(_ d: DaemonUnderTest, _ environment: [String: String], as user: String? = nil) throws -> Outcome {
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        guard let user else {
            return try runProgram("/usr/bin/timeout", ["20", Repo.daemon, "--config", d.config], environment: env)
        }
        let copy = d.dir.appendingPathComponent("mediationd").path
        if !FileManager.default.fileExists(atPath: copy) {
            try FileManager.default.copyItem(atPath: Repo.daemon, toPath: copy)
        }
        return try runProgram(
            "/usr/bin/timeout",
            [
                "20", "/usr/bin/setpriv", "--reuid=\(user)", "--regid=nogroup", "--clear-groups", copy, "--config",
                d.config,
            ],
            environment: env)
    }

    /// Each once failed with words from deep inside (bind(descriptor:ptr:bytes:): Permission denied,
    /// unixDomainSocketPathTooLong, "cannot be read as UTF-8 text") and two CancellationError() lines, or (a missing
    /// socket.group) served anyway.
    @Test func startUpFailuresNameTheKeyAndTheFixAndExitTwo() throws {
        let d = try DaemonUnderTest()
        func check(_ r: Outcome, _ texts: [String]) {
            #expect(r.status == 2, "\(r)")
            for text in texts { #expect(r.stderr.contains(text), "\(text): \(r)") }
            #expect(!r.stderr.contains("CancellationError"), "\(r)")
            #expect(!r.stderr.contains("] serving"), "\(r)")
            #expect(!FileManager.default.fileExists(atPath: d.socket))
        }
        let long = d.dir.appendingPathComponent(String(repeating: "s", count: 120) + ".sock").path
        check(
            try refusedStart(d, ["MEDIATIOND_SOCKET_PATH": long]),
            ["socket.path \(long) is \(long.utf8.count) bytes long", "at most 107 bytes", "choose a shorter path"])
        #expect(!FileManager.default.fileExists(atPath: long))

        check(
            try refusedStart(d, ["MEDIATIOND_SOCKET_GROUP": "no-such-mediation-group"]),
            ["socket.group 'no-such-mediation-group' does not exist", "groupadd no-such-mediation-group"])

        // Not UTF-8 (a file saved as GBK).
        let gbk = try DaemonUnderTest()
        // "# 金山" in GBK after the UTF-8 text.
        let bytes =
            try Data(contentsOf: URL(fileURLWithPath: gbk.config)) + Data([0x23, 0x20, 0xBD, 0xF0, 0xC9, 0xBD, 0x0A])
        try bytes.write(to: URL(fileURLWithPath: gbk.config))
        check(
            try runProgram("/usr/bin/timeout", ["20", Repo.daemon, "--config", gbk.config]),
            ["configuration file \(gbk.config) is not UTF-8 text", "save it as UTF-8"])

        guard getuid() == 0 else { return }
        // As a user who may not write the socket's folder, or read the file.
        let rootsOnly = d.dir.appendingPathComponent("roots-only").path
        #expect(mkdir(rootsOnly, 0o755) == 0)
        check(
            try refusedStart(d, ["MEDIATIOND_SOCKET_PATH": rootsOnly + "/api.sock"], as: "nobody"),
            [
                "socket.path \(rootsOnly)/api.sock", "may not create the socket in \(rootsOnly) (Permission denied)",
                "RuntimeDirectory=mediationd",
            ])
        #expect(chmod(d.config, 0o600) == 0)
        check(
            try refusedStart(d, [:], as: "nobody"),
            ["configuration file \(d.config) cannot be read by the daemon's user", "chmod 0640"])
    }

    /// `store.path` naming a folder once narrowed that folder (/tmp itself) to 0750; a link had its target narrowed.
    @Test func aStorePathThatIsAFolderOrALinkStopsTheStartAndChangesNoMode() throws {
        let d = try DaemonUnderTest()
        let shared = d.dir.appendingPathComponent("shared").path
        #expect(mkdir(shared, 0o755) == 0 && chmod(shared, 0o1777) == 0)
        let folder = try refusedStart(d, ["MEDIATIOND_STORE_PATH": shared])
        #expect(folder.status == 2, "\(folder)")
        #expect(folder.stderr.contains("store.path \(shared) is a folder, not a database file"), "\(folder)")
        #expect(folder.stderr.contains("set store.path to a file inside it"), "\(folder)")
        var info = stat()
        #expect(stat(shared, &info) == 0 && info.st_mode & 0o7777 == 0o1777, "the folder keeps mode 1777")

        let target = d.dir.appendingPathComponent("target.txt").path
        #expect(FileManager.default.createFile(atPath: target, contents: Data("x".utf8)))
        #expect(chmod(target, 0o644) == 0)
        let link = d.dir.appendingPathComponent("link.sqlite").path
        #expect(symlink(target, link) == 0)
        let linked = try refusedStart(d, ["MEDIATIOND_STORE_PATH": link])
        #expect(linked.status == 2, "\(linked)")
        #expect(linked.stderr.contains("store.path \(link) is a symbolic link to \(target)"), "\(linked)")
        #expect(stat(target, &info) == 0 && info.st_mode & 0o777 == 0o644, "the target keeps mode 0644")
        #expect(!FileManager.default.fileExists(atPath: d.socket))
    }

    @Test func helpAndCompletionsWork() throws {
        let completion = try runProgram(Repo.ctl, ["--generate-completion-script", "bash"])
        #expect(completion.status == 0)
        #expect(completion.stdout.contains("_mediationctl"))
        let help = try runProgram(Repo.ctl, ["expert", "import", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--dry-run") && help.stdout.contains("BOM"))
        let usage = try runProgram(Repo.ctl, ["expert", "add", "--name", "x"])
        #expect(usage.status == 2, "\(usage)")
        #expect(usage.stderr.contains("--role"))
        let down = try runProgram(Repo.ctl, ["--socket", "/nonexistent/api.sock", "health"])
        #expect(down.status == 1)
        #expect(down.stderr.contains("mediationd is not running") && down.stderr.contains("make run"), "\(down)")
        let daemonHelp = try runProgram(Repo.daemon, ["--help"])
        #expect(daemonHelp.status == 0 && daemonHelp.stdout.contains("MEDIATIOND_SOCKET_PATH"))
    }
}
