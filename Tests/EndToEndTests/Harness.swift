import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Paths of the repository and the binaries `swift build` made.
enum Repo {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let bin = root.appendingPathComponent(".build/debug")
    static var daemon: String { bin.appendingPathComponent("mediationd").path }
    static var ctl: String { bin.appendingPathComponent("mediationctl").path }
    static var sampleRoster: String { root.appendingPathComponent("Config/examples/experts.csv").path }
}

/// What a finished process said.
struct Outcome: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// Runs a program to completion, with output captured through files so a full pipe can never block it.
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil, cwd: String? = nil)
    throws -> Outcome
{
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("stdout")
    let err = scratch.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return Outcome(
        status: process.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
}

/// A real mediationd in its own temporary directory, driven by the real mediationctl.
final class DaemonUnderTest: @unchecked Sendable {
    let dir: URL
    let socket: String
    let config: String
    private(set) var process: Process?
    let logFile: URL
    /// The file that moves the daemon's clock (`mediationd --test-clock-file`), when it runs on a movable one.
    let clockFile: String?

    /// Writes a configuration whose state lives in a fresh temporary directory. With `movableClock`, the daemon
    /// runs with `--test-clock-file` (at the real time until `setClock` moves it).
    init(
        socketMode: String = "0660", viewerGroups: [String] = ["mediation-viewer"], extraYAML: String = "",
        movableClock: Bool = false
    ) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mediationd-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // Other uids (the refusal test runs the client as nobody) must reach the socket inside.
        chmod(dir.path, 0o755)
        socket = dir.appendingPathComponent("api.sock").path
        config = dir.appendingPathComponent("mediationd.yaml").path
        logFile = dir.appendingPathComponent("daemon.log")
        clockFile = movableClock ? dir.appendingPathComponent("clock-offset").path : nil
        if let clockFile { try "0\n".write(toFile: clockFile, atomically: true, encoding: .utf8) }
        let yaml = """
            socket:
              path: \(socket)
              mode: "\(socketMode)"
            store:
              path: \(dir.appendingPathComponent("state/mediation.sqlite").path)
            spool:
              directory: \(dir.appendingPathComponent("state/outbox").path)
            access:
              admin_groups: [mediation-admin]
              staff_groups: [mediation-staff]
              viewer_groups: [\(viewerGroups.joined(separator: ", "))]
            \(extraYAML)
            """
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
    }

    var databasePath: String { dir.appendingPathComponent("state/mediation.sqlite").path }

    /// A copy of mediationctl that another uid can run: the checkout may sit in a folder only root can enter.
    func ctlForOtherUsers() throws -> String {
        let copy = dir.appendingPathComponent("mediationctl").path
        if !FileManager.default.fileExists(atPath: copy) {
            try FileManager.default.copyItem(atPath: Repo.ctl, toPath: copy)
            chmod(copy, 0o755)
        }
        return copy
    }

    /// Starts the daemon and waits until the socket answers.
    func start(environment extra: [String: String] = [:]) throws {
        process = try launch(
            Repo.daemon, ["--config", config] + (clockFile.map { ["--test-clock-file", $0] } ?? []), environment: extra,
            what: "mediationd")
    }

    /// Moves the daemon's clock so that it reads `instant` now; it runs on from there.
    func setClock(to instant: Date) throws {
        guard let clockFile else { throw HarnessError("this daemon was not started with movableClock: true") }
        try "\(instant.timeIntervalSinceNow)\n".write(toFile: clockFile, atomically: true, encoding: .utf8)
    }

    /// The daemon's "now": the real time moved by the clock file's offset.
    var now: Date {
        let offset = clockFile.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }.flatMap {
            TimeInterval($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return Date().addingTimeInterval(offset ?? 0)
    }

    /// A session's start as the daemon shows it (`2026-12-14T14:00:00+08:00`).
    func sessionStart(_ session: Int) throws -> Date {
        let shown = try #require(try json("session", "show", String(session)) as? [String: Any])
        let text = try #require(shown["start"] as? String)
        return try #require(ISO8601DateFormatter().date(from: text), "a start like 2026-12-14T14:00:00+08:00: \(text)")
    }

    /// Moves the daemon's clock to `seconds` after the session's start (before it, when negative).
    func moveClock(toSession session: Int, plus seconds: TimeInterval = 0) throws {
        try setClock(to: try sessionStart(session).addingTimeInterval(seconds))
    }

    /// Starts the daemon through another program (such as nsenter) that runs it, and waits until it serves.
    func start(executable: String, arguments: [String]) throws {
        process = try launch(executable, arguments, what: "mediationd (\(executable))")
    }

    /// Runs `executable` with this daemon's log as its output and no systemd variables, and waits until the
    /// socket answers and the log says it is serving (what READY=1 means: serving, with the socket's mode and
    /// group applied).
    func launch(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:], what: String)
        throws -> Process
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = nil
        env["WATCHDOG_USEC"] = nil
        // Set when the tests themselves run under systemd; the daemon would take itself to run under it too.
        env["INVOCATION_ID"] = nil
        for (k, v) in extra { env[k] = v }
        process.environment = env
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: logFile)
        logHandle.seekToEndOfFile()
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !process.isRunning {
                throw HarnessError("\(what) exited with \(process.terminationStatus) before serving:\n\(log())")
            }
            if socketAnswers(socket) && log().contains("] serving") { return process }
            usleep(20_000)
        }
        process.terminate()
        process.waitUntilExit()
        throw HarnessError("\(what) did not start serving within 30 s:\n\(log())")
    }

    /// SIGTERM, and wait for the exit.
    @discardableResult
    func stop() -> Int32 {
        terminateAndWait(process)
    }

    func log() -> String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Runs mediationctl against this daemon.
    func ctl(_ arguments: String...) throws -> Outcome {
        try runProgram(Repo.ctl, ["--socket", socket] + arguments)
    }

    func ctl(args arguments: [String]) throws -> Outcome {
        try runProgram(Repo.ctl, ["--socket", socket] + arguments)
    }

    /// Runs mediationctl and decodes its `--json` output.
    func json(_ arguments: String...) throws -> Any {
        let outcome = try runProgram(Repo.ctl, ["--socket", socket, "--json"] + arguments)
        guard outcome.status == 0 else { throw HarnessError("mediationctl failed: \(outcome)") }
        return try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8))
    }

    func expertCount(_ extra: String...) throws -> Int {
        let object = try runProgram(Repo.ctl, ["--socket", socket, "--json", "expert", "list"] + extra)
        guard object.status == 0,
            let dict = try JSONSerialization.jsonObject(with: Data(object.stdout.utf8)) as? [String: Any],
            let list = dict["experts"] as? [Any]
        else { throw HarnessError("expert list failed: \(object)") }
        return list.count
    }

    /// Raw HTTP through curl on the socket: (status, body).
    func curl(_ arguments: [String]) throws -> (Int, String) {
        let outcome = try runProgram(
            "/usr/bin/curl", ["-s", "-o", "-", "-w", "\n%{http_code}", "--unix-socket", socket] + arguments)
        var lines = outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let code = Int(lines.popLast() ?? "") ?? -1
        return (code, lines.joined(separator: "\n"))
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: dir)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The Monday of the week after next and the day `days` after it, as dates in Asia/Shanghai (`2026-12-14`):
/// far enough ahead for any minimum notice, and the same weekdays whatever day the tests run.
func mondayAfterNext(plus days: Int) -> (String, String) {
    var calendar = Calendar(identifier: .iso8601)
    calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .current
    let today = calendar.startOfDay(for: Date())
    let weekday = calendar.component(.weekday, from: today)  // 1 = Sunday
    let toMonday = (9 - weekday) % 7 == 0 ? 7 : (9 - weekday) % 7
    let monday = calendar.date(byAdding: .day, value: toMonday + 7, to: today) ?? today
    let later = calendar.date(byAdding: .day, value: days, to: monday) ?? today
    let f = DateFormatter()
    f.calendar = calendar
    f.timeZone = calendar.timeZone
    f.dateFormat = "yyyy-MM-dd"
    return (f.string(from: monday), f.string(from: later))
}

/// A connected Unix stream socket, or -1 with `errno` saying why.
func connectUnix(_ path: String) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    guard connected == 0 else {
        let why = errno
        close(fd)
        errno = why
        return -1
    }
    return fd
}

/// SIGTERM to `process` if it still runs, and waits for it; its exit status (0 when there is none).
@discardableResult
func terminateAndWait(_ process: Process?) -> Int32 {
    guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
    process.terminate()
    process.waitUntilExit()
    return process.terminationStatus
}

/// True when something accepts a connection at the Unix socket path.
func socketAnswers(_ path: String) -> Bool {
    let fd = connectUnix(path)
    guard fd >= 0 else { return false }
    close(fd)
    return true
}

/// Adds the four offices the sample roster names.
func addSampleOffices(_ d: DaemonUnderTest) throws {
    for (id, name) in [("jinshan", "金山警务室"), ("xinhua", "新华警务室"), ("hongqiao", "虹桥警务室"), ("binjiang", "滨江警务室")] {
        let r = try d.ctl("office", "add", id, "--name", name)
        #expect(r.status == 0, "office add \(id): \(r)")
    }
}

/// Days as the console and the CLI take them (`2026-12-14`), in Asia/Shanghai: the ISO calendar and its formatter.
func shanghaiDays() -> (Calendar, DateFormatter) {
    var calendar = Calendar(identifier: .iso8601)
    calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .current
    let f = DateFormatter()
    f.calendar = calendar
    f.timeZone = calendar.timeZone
    f.dateFormat = "yyyy-MM-dd"
    return (calendar, f)
}

/// The day of `date` (plus `offset` days) in Asia/Shanghai, `2026-12-14`.
func shanghaiDay(_ date: Date, plus offset: Int = 0) -> String {
    let (calendar, f) = shanghaiDays()
    return f.string(from: calendar.date(byAdding: .day, value: offset, to: date) ?? date)
}
