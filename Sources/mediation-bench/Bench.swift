import ArgumentParser
import Foundation
import Glibc

/// `make bench` runs `measure`, the default; `solve` and `instances` let another solver use the slot-finder
/// instances (Benchmarks/README.md).
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mediation-bench",
        abstract: "The benchmarks of make bench, and the slot finder's answer to a search file.",
        subcommands: [Measure.self, Solve.self, Instances.self], defaultSubcommand: Measure.self)
}

/// `make bench`: the figures the issues name, measured in one run on a release build.
struct Measure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measures health latency over the socket, CLI list time with 2,000 experts, daemon memory, "
            + "booking throughput, the slot finder, notices and reports.")

    @Option(help: "Folder holding mediationd and mediationctl.") var bin = ".build/release"
    @Option(help: "Requests for the latency run (after warm-up).") var requests = 2000
    @Option(help: "Experts to load.") var experts = 2000
    @Option(help: "Runs of 'mediationctl --json expert list'.") var listRuns = 21
    @Option(help: "Write slot-finder instances and answers as JSON here (see Benchmarks/README.md).")
    var instances: String?
    @Flag(help: "Run only the booking-throughput part (for profiling).") var bookingOnly = false
    @Flag(help: "Run only the notice-delivery part.") var noticesOnly = false
    @Flag(help: "Run only the report part: 100,000 disputes, 300,000 sessions, report weekly and outcomes.")
    var reportOnly = false

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mediation-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // BENCH_KEEP=1 leaves the folder (store, logs) for a look afterwards.
        defer {
            if ProcessInfo.processInfo.environment["BENCH_KEEP"] == nil { try? FileManager.default.removeItem(at: dir) }
        }
        if reportOnly {
            for line in try ReportBench.run(bin: bin, directory: dir) { print(line) }
            return
        }
        let socketPath = dir.appendingPathComponent("api.sock").path
        let daemon = try startDaemon(bin: bin, directory: dir)
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let fd = try waitForSocket(socketPath)
        defer { close(fd) }
        usleep(300_000)
        let idleRSS = rssKiB(daemon.processIdentifier)

        let ctl = "\(bin)/mediationctl"
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        func notices() throws -> [String] {
            let out = Locked<[String]>([])
            let done = DispatchSemaphore(value: 0)
            Task {
                do {
                    let python = root.appendingPathComponent(".venv/bin/python").path
                    // Mail and SMS in the same run, side by side.
                    out.set(
                        try await NoticeBench.run(
                            directory: dir.path, python: python,
                            peer: root.appendingPathComponent("Tests/peers/smtp_server.py").path)
                            + SMSBench.run(
                                directory: dir.appendingPathComponent("sms").path, python: python,
                                peer: root.appendingPathComponent("Tests/peers/sms_gateway.py").path))
                } catch {
                    out.set(["notice benchmark failed: \(error)"])
                }
                done.signal()
            }
            done.wait()
            return out.value
        }
        if noticesOnly {
            for line in try notices() { print(line) }
            return
        }
        if bookingOnly {
            let booking = try BookingBench.run(
                ctl: ctl, socket: socketPath, directory: dir.path, daemon: daemon.processIdentifier)
            for line in booking.lines { print(line) }
            print(try groupCommitComparison(booking, ctl: ctl, directory: dir))
            return
        }
        // 1. Health over one reused connection, beside a minimal echo round trip.
        let request = Array("GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        for _ in 0..<200 { _ = try roundTrip(fd, request) }
        var health: [Double] = []
        let healthCPU = cpuSeconds(daemon.processIdentifier)
        for _ in 0..<requests {
            let start = DispatchTime.now().uptimeNanoseconds
            let response = try roundTrip(fd, request)
            health.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
            guard response.hasPrefix("HTTP/1.1 200") else {
                throw BenchError("health answered: \(response.prefix(80))")
            }
        }
        let healthCPUPerRequest = (cpuSeconds(daemon.processIdentifier) - healthCPU) / Double(requests) * 1e6
        let echo = try echoRoundTrips(dir.appendingPathComponent("echo.sock").path, count: requests)

        // 2. The CLI listing 2,000 experts, whole process.
        try runQuiet(ctl, ["--socket", socketPath, "office", "add", "bench", "--name", "基准警务室"])
        let roster = dir.appendingPathComponent("roster.csv").path
        try makeRoster(experts).write(toFile: roster, atomically: true, encoding: .utf8)
        try runQuiet(ctl, ["--socket", socketPath, "expert", "import", roster])
        var wall: [Double] = []
        for _ in 0..<listRuns {
            let start = DispatchTime.now().uptimeNanoseconds
            try runQuiet(ctl, ["--socket", socketPath, "--json", "expert", "list"])
            wall.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
        }
        let loadedRSS = rssKiB(daemon.processIdentifier)
        let booking = try BookingBench.run(
            ctl: ctl, socket: socketPath, directory: dir.path, daemon: daemon.processIdentifier)
        let grouping = try groupCommitComparison(booking, ctl: ctl, directory: dir)

        print("mediation-bench (release build, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        print(
            String(
                format:
                    "health over the socket, %d requests, one connection: p50 %.0f µs, p99 %.0f µs (daemon CPU %.0f µs each)",
                requests, percentile(health, 50), percentile(health, 99), healthCPUPerRequest))
        print(
            String(
                format: "raw Unix-socket echo round trip, same run:            p50 %.0f µs, p99 %.0f µs",
                percentile(echo, 50), percentile(echo, 99)))
        print(
            String(
                format: "mediationctl --json expert list, %d experts, %d runs: median %.1f ms (min %.1f, max %.1f)",
                experts, listRuns, percentile(wall, 50), wall.min() ?? 0, wall.max() ?? 0))
        print(
            String(
                format: "daemon resident memory: idle %.1f MB, with %d experts %.1f MB",
                Double(idleRSS) / 1024, experts, Double(loadedRSS) / 1024))
        print("targets: health p50 ≤ 250 µs; list ≤ 100 ms; idle ≤ 40 MB")
        for line in booking.lines { print(line) }
        print(grouping)
        for line in try SlotFinderBench.run(outputDirectory: instances) { print(line) }
        for line in try notices() { print(line) }
        for line in try ReportBench.run(bin: bin, directory: dir) { print(line) }
    }

    /// `mediationd` on a store, spool and socket of its own in `directory`; returns once it has started.
    func startDaemon(bin: String, directory: URL, arguments: [String] = []) throws -> Process {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: "\(bin)/mediationd")
        daemon.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["MEDIATIOND_SOCKET_PATH"] = directory.appendingPathComponent("api.sock").path
        env["MEDIATIOND_STORE_PATH"] = directory.appendingPathComponent("bench.sqlite").path
        env["MEDIATIOND_SPOOL_DIRECTORY"] = directory.appendingPathComponent("outbox").path
        env["MEDIATIOND_LOG_LEVEL"] = "warning"
        // The embedded default serves the console on 127.0.0.1:8080; the bench measures the API (and runs two
        // daemons at once), so the console is off here.
        env["MEDIATIOND_WEB_LISTEN"] = "off"
        daemon.environment = env
        daemon.standardError =
            ProcessInfo.processInfo.environment["BENCH_DAEMON_LOG"].flatMap { FileHandle(forWritingAtPath: $0) }
            ?? FileHandle.nullDevice
        try daemon.run()
        return daemon
    }

    /// The same booking storm on a second daemon whose bookings each commit alone (`--commit-writes-alone`): what
    /// group commit saves, and so whether it still pays for itself.
    func groupCommitComparison(_ grouped: BookingFigures, ctl: String, directory: URL) throws -> String {
        let folder = directory.appendingPathComponent("alone")
        let daemon = try startDaemon(bin: bin, directory: folder, arguments: ["--commit-writes-alone"])
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let socket = folder.appendingPathComponent("api.sock").path
        close(try waitForSocket(socket))
        let alone = try BookingBench.run(
            ctl: ctl, socket: socket, directory: folder.path, daemon: daemon.processIdentifier)
        return String(
            format:
                "group commit: %.0f bookings/s, p99 %.1f ms; each booking committed alone (mediationd --commit-writes-alone), same run: %.0f bookings/s, p99 %.1f ms (%.1f× the rate with group commit)",
            grouped.bookingsPerSecond, grouped.p99Milliseconds, alone.bookingsPerSecond, alone.p99Milliseconds,
            grouped.bookingsPerSecond / max(alone.bookingsPerSecond, 1))
    }
}

/// A value shared between a task and the thread that waits for it.
final class Locked<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    func set(_ value: T) { lock.withLock { stored = value } }
    func update(_ body: (inout T) -> Void) { lock.withLock { body(&stored) } }
    var value: T { lock.withLock { stored } }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p / 100 * Double(sorted.count - 1)).rounded())
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

func rssKiB(_ pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

/// CPU seconds (user + system) a process has used so far.
func cpuSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Seconds all cores have spent idle since boot (the first line of /proc/stat: idle and iowait).
func machineIdleSeconds() -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
        let line = stat.split(separator: "\n").first
    else { return 0 }
    let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard fields.count > 4 else { return 0 }
    return (fields[3] + fields[4]) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

func unixAddress(_ path: String) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        let bytes = Array(path.utf8)
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    return address
}

func connectUnix(_ path: String) -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = unixAddress(path)
    let ok = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    if ok != 0 {
        close(fd)
        return -1
    }
    return fd
}

func waitForSocket(_ path: String) throws -> Int32 {
    for _ in 0..<600 {
        let fd = connectUnix(path)
        if fd >= 0 { return fd }
        usleep(50_000)
    }
    throw BenchError("mediationd did not start at \(path)")
}

/// Sends a request and reads one whole HTTP/1.1 response (Content-Length or chunked).
func roundTrip(_ fd: Int32, _ request: [UInt8]) throws -> String {
    guard write(fd, request, request.count) == request.count else { throw BenchError("write failed") }
    var data = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { throw BenchError("connection closed") }
        data += buffer[0..<n]
        guard let headerEnd = find(data, Array("\r\n\r\n".utf8)) else { continue }
        let head = String(decoding: data[0..<headerEnd], as: UTF8.self).lowercased()
        let bodyStart = headerEnd + 4
        if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        {
            if data.count - bodyStart >= length { return String(decoding: data, as: UTF8.self) }
        } else if find(Array(data[bodyStart...]), Array("0\r\n\r\n".utf8)) != nil {
            return String(decoding: data, as: UTF8.self)
        }
    }
}

func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
        if Array(haystack[i..<(i + needle.count)]) == needle { return i }
    }
    return nil
}

/// A minimal echo server on a Unix socket and `count` round trips of a health-sized request through it.
func echoRoundTrips(_ path: String, count: Int) throws -> [Double] {
    let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = unixAddress(path)
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    listen(server, 1)
    let thread = Thread {
        let peer = accept(server, nil, nil)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(peer, &buffer, buffer.count)
            if n <= 0 { break }
            _ = write(peer, buffer, n)
        }
        close(peer)
    }
    thread.start()
    let fd = connectUnix(path)
    defer {
        close(fd)
        close(server)
    }
    let message = [UInt8](repeating: 0x61, count: 48)
    var buffer = [UInt8](repeating: 0, count: 4096)
    var times: [Double] = []
    for i in 0..<(count + 200) {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = write(fd, message, message.count)
        var got = 0
        while got < message.count {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { throw BenchError("echo closed") }
            got += n
        }
        if i >= 200 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000) }
    }
    return times
}

/// Runs a program with its output discarded and waits for it with waitpid. Foundation's
/// `Process.waitUntilExit` polls a run loop in 50 ms steps, which would swamp a 100 ms measurement.
func runQuiet(_ path: String, _ arguments: [String]) throws {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard spawned == 0 else { throw BenchError("cannot start \(path): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let exited = (status & 0x7f) == 0
    let code = (status >> 8) & 0xff
    guard exited && code == 0 else { throw BenchError("\(path) \(arguments) ended with status \(status)") }
}

/// A roster of `count` fictional experts for the bench office.
func makeRoster(_ count: Int) -> String {
    let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
    let given = ["建国", "丽华", "志远", "晓雯", "海燕", "德明", "秀英", "伟", "敏", "静"]
    let roles = ["lawyer", "legal_officer", "retiree", "community_staff"]
    let tags = ["property", "family", "labour", "debt", "neighbour", "traffic", "noise", "pet"]
    var lines = ["name,role,mobile,offices,specialties,weekly_hours"]
    for i in 0..<count {
        let name = String(surnames[i % surnames.count]) + given[(i / surnames.count) % given.count] + String(i)
        lines.append(
            "\(name),\(roles[i % 4]),1\(String(format: "%010d", 3_000_000_000 + i)),bench,"
                + "\(tags[i % 8])|\(tags[(i + 3) % 8]),mon 09:00-12:00 14:00-17:00; thu 19:00-21:00")
    }
    return lines.joined(separator: "\n") + "\n"
}
