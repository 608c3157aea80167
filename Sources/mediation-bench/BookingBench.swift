import Foundation
import GRDB
import Glibc

/// What one booking storm measured: the lines to print, and the rate and p99 to compare with another storm.
struct BookingFigures {
    var lines: [String]
    var bookingsPerSecond: Double
    var p99Milliseconds: Double
}

/// Booking throughput through the socket with 8 concurrent clients, beside single-row SQLite transactions
/// with the same durability (WAL, synchronous=FULL) in the same run.
enum BookingBench {
    static func run(
        ctl: String, socket: String, directory: String, daemon: Int32,
        clients: Int = Int(ProcessInfo.processInfo.environment["BENCH_BOOKING_CLIENTS"] ?? "") ?? 8,
        perClient: Int = Int(ProcessInfo.processInfo.environment["BENCH_BOOKINGS_PER_CLIENT"] ?? "") ?? 300
    ) throws
        -> BookingFigures
    {
        // Office open every day and all day, and private trios of experts per client so that clients race for the
        // database, not for the same experts. Each client rotates over its trios, so every expert ends with about
        // ten sessions, as in the slot-finder benchmark (a volunteer's month, not a hundred sessions in a week).
        let triosPerClient = max(10, perClient / 10)
        try runQuiet(
            ctl,
            [
                "--socket", socket, "office", "add", "benchbook", "--name", "booking bench", "--prefix", "BB",
                "--hours", "mon-sun 00:00-24:00",
            ])
        // Each expert has mail, so each booking's three notices are rendered, with their invites, and written.
        var roster = ["name,role,mobile,email,offices,weekly_hours,max_per_day,max_per_week"]
        let trios = clients * triosPerClient
        for c in 0..<trios {
            for (r, role) in ["legal_officer", "lawyer", "community_staff"].enumerated() {
                roster.append(
                    "bb\(c)-\(r),\(role),1\(String(format: "%010d", 5_000_000_000 + c * 10 + r)),bb\(c)-\(r)@bench.example,benchbook,"
                        + "mon-sun 00:00-24:00,24,100")
            }
        }
        let rosterPath = directory + "/booking-roster.csv"
        try (roster.joined(separator: "\n") + "\n").write(toFile: rosterPath, atomically: true, encoding: .utf8)
        try runQuiet(ctl, ["--socket", socket, "expert", "import", rosterPath])
        let disputes = clients * perClient
        for i in 0..<disputes {
            try runQuietFast(
                socket, "POST", "/v1/disputes",
                #"{"office":"benchbook","title":"bench \#(i)","category":"other"}"#)
        }
        // Experts' ids: the bench roster comes after the 2,000 of the listing benchmark.
        let ids = try expertIDs(socket: socket, office: "benchbook")
        guard ids.count == trios * 3 else {
            throw BenchError("expected \(trios * 3) bench experts, got \(ids.count)")
        }
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        let tomorrow = Date().addingTimeInterval(2 * 86400)
        // Even hours: a 90-minute session starting then never crosses midnight (office windows end at 24:00).
        let base = (Int(tomorrow.timeIntervalSince1970) / 7200) * 7200
        // Requests are written out before the clock starts, so the figure is the daemon's, not the client's.
        let formatter = ISO8601DateFormatter()
        let bodies: [[[UInt8]]] = (0..<clients).map { c in
            (0..<perClient).map { k in
                let dispute = String(format: "BB-%04d-%04d", year, c * perClient + k + 1)
                // Two hours apart: the 30-minute buffer and the 90-minute session never touch.
                let at = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(base + k * 7200)))
                let trio = c * triosPerClient + k % triosPerClient
                let panel = (0..<3).map { "\"\(ids[trio * 3 + $0])\"" }.joined(separator: ",")
                return request(
                    "POST", "/v1/sessions",
                    #"{"dispute":"\#(dispute)","start":"\#(at)","panel":[\#(panel)],"durationMinutes":90}"#)
            }
        }
        // The same durability with nothing else: one-row transactions on a WAL database, synchronous=FULL, from as
        // many threads as there are clients.
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let pool = try DatabasePool(path: "\(directory)/baseline.sqlite", configuration: config)
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        }
        // Measured before the bookings (the daemon idle) and again once their notices have all gone out: this VM's
        // disk and CPU drift, and the two show by how much in the run.
        func baselineRate() -> Double {
            let n = 2400
            let t0 = DispatchTime.now().uptimeNanoseconds
            onThreads(clients) { _ in
                for _ in 0..<(n / clients) {
                    try? pool.write { db in try db.execute(sql: "INSERT INTO t (v) VALUES ('booking')") }
                }
            }
            return Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        let baselineBefore = baselineRate()
        let sentBefore = try outboxCounts(socket: socket)["sent"] ?? 0
        guard try outboxCounts(socket: socket)["dead"] ?? 0 == 0 else { throw BenchError("dead messages before") }
        let failures = Atomic(0)
        // Each booking's time from its request's first byte to its answer's last, as its client sees it.
        let latencies = Locked<[Double]>([])
        // BENCH_PERF_OUT=FILE records the daemon with `perf record -g` over the booking storm alone.
        let perf = try ProcessInfo.processInfo.environment["BENCH_PERF_OUT"].map { out in
            let perf = Process()
            perf.executableURL = URL(fileURLWithPath: "/usr/bin/perf")
            perf.arguments =
                [
                    "record", "-F", "1999", "--call-graph",
                    ProcessInfo.processInfo.environment["BENCH_PERF_CALLGRAPH"] ?? "fp", "-o", out, "-p", "\(daemon)",
                ]
            perf.standardError = FileHandle.nullDevice
            try perf.run()
            usleep(500_000)
            return perf
        }
        let commitsBefore = try groupCommit(socket: socket)
        let cpuBefore = cpuSeconds(daemon)
        let clientCPUBefore = cpuSeconds(getpid())
        let idleBefore = machineIdleSeconds()
        let start = DispatchTime.now().uptimeNanoseconds
        // One thread per client (concurrentPerform would run only as many as there are cores).
        onThreads(clients) { c in
            let fd = connectUnix(socket)
            defer { close(fd) }
            var mine: [Double] = []
            mine.reserveCapacity(bodies[c].count)
            defer { latencies.update { $0 += mine } }
            for body in bodies[c] {
                let sent = DispatchTime.now().uptimeNanoseconds
                let answer = (try? roundTrip(fd, body)) ?? ""
                mine.append(Double(DispatchTime.now().uptimeNanoseconds - sent) / 1e6)
                if !answer.hasPrefix("HTTP/1.1 201") {
                    // The first failure is shown whole: a benchmark that fails quietly measures nothing.
                    if failures.value == 0 { FileHandle.standardError.write(Data(answer.prefix(600).utf8)) }
                    failures.add(1)
                }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let daemonCPU = cpuSeconds(daemon) - cpuBefore
        let clientCPU = cpuSeconds(getpid()) - clientCPUBefore
        let idle = machineIdleSeconds() - idleBefore
        let commits = try groupCommit(socket: socket).merging(commitsBefore) { after, before in after - before }
        if let perf {
            perf.interrupt()
            perf.waitUntilExit()
        }
        let bookings = Double(disputes) / seconds
        // The notices (3 per booking) go out once the burst settles; the figure with them is the sustained rate.
        let expected = disputes * 3
        let patience = Date().addingTimeInterval(300)
        while try (outboxCounts(socket: socket)["sent"] ?? 0) - sentBefore < expected {
            let counts = try outboxCounts(socket: socket)
            guard counts["dead"] ?? 0 == 0, Date() < patience else {
                throw BenchError("the bookings' \(expected) notices did not all go out: \(counts)")
            }
            usleep(50_000)
        }
        let drained = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let allCPU = cpuSeconds(daemon) - cpuBefore
        let baselineAfter = baselineRate()
        let latency = latencies.value

        let lines = [
            String(
                format:
                    "booking through the socket, %d clients, %d bookings: %.0f bookings/s (%d failed); a booking p50 %.1f ms, p99 %.1f ms",
                clients, disputes, bookings, failures.value, percentile(latency, 50), percentile(latency, 99)),
            String(
                format:
                    "single-row SQLite transactions (WAL, synchronous=FULL, %d threads), same run: %.0f/s before the bookings, %.0f/s after",
                clients, baselineBefore, baselineAfter),
            "target: ≥ 1,000 bookings/s with 8 clients and a booking's p99 ≤ 25 ms",
            String(
                format: "daemon CPU per booking: %.0f µs; with its 3 notices rendered and written: %.0f µs",
                daemonCPU / Double(disputes) * 1e6, allCPU / Double(disputes) * 1e6),
            writerLine(commits),
            String(
                format: "the %d clients' CPU per booking: %.0f µs; the machine's %d cores idle %.0f%% of the burst",
                clients, clientCPU / Double(disputes) * 1e6, ProcessInfo.processInfo.activeProcessorCount,
                100 * idle / (seconds * Double(ProcessInfo.processInfo.activeProcessorCount))),
            String(
                format:
                    "every notice out %.2f s after the first booking (%.2f s after the last): %.0f bookings/s with their notices",
                drained, drained - seconds, Double(disputes) / drained),
        ]
        return BookingFigures(lines: lines, bookingsPerSecond: bookings, p99Milliseconds: percentile(latency, 99))
    }

    /// The single writer over the burst, from the daemon's group-commit counters: writes per round, the time to run
    /// one write and to commit one round, and the rate those allow, `k / (k · run + commit)`.
    static func writerLine(_ c: [String: Double]) -> String {
        let rounds = c["rounds"] ?? 0
        let writes = c["writes"] ?? 0
        guard rounds > 0, writes > 0 else { return "the single writer: no group-commit rounds were counted" }
        let k = writes / rounds
        let run = (c["run_seconds"] ?? 0) / writes
        let commit = (c["commit_seconds"] ?? 0) / rounds
        return String(
            format:
                "the single writer: %.1f bookings per round (%.0f rounds); %.0f µs to run a booking, %.0f µs to commit a round (log frames and fsync): at most %.0f bookings/s",
            k, rounds, run * 1e6, commit * 1e6, k / (k * run + commit))
    }

    /// The body of `GET path` on a connection of its own.
    static func get(_ socket: String, _ path: String) throws -> String {
        let fd = connectUnix(socket)
        defer { close(fd) }
        let answer = try roundTrip(fd, Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        guard let range = answer.range(of: "\r\n\r\n") else { throw BenchError("GET \(path): \(answer.prefix(200))") }
        return String(answer[range.upperBound...])
    }

    /// The daemon's group-commit counters (`GET /v1/metrics`), by the name after `mediation_group_commit_`.
    static func groupCommit(socket: String) throws -> [String: Double] {
        var counters: [String: Double] = [:]
        for line in try get(socket, "/v1/metrics").split(separator: "\n")
        where line.hasPrefix("mediation_group_commit_") {
            let parts = line.dropFirst("mediation_group_commit_".count).split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) {
                counters[String(parts[0].replacingOccurrences(of: "_total", with: ""))] = value
            }
        }
        guard counters["rounds"] != nil else { throw BenchError("the daemon's metrics have no group-commit counters") }
        return counters
    }

    static func request(_ method: String, _ path: String, _ body: String) -> [UInt8] {
        let bytes = Array(body.utf8)
        return Array(
            "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\n\r\n"
                .utf8) + bytes
    }

    static func runQuietFast(_ socket: String, _ method: String, _ path: String, _ body: String) throws {
        let fd = connectUnix(socket)
        defer { close(fd) }
        let answer = try roundTrip(fd, request(method, path, body))
        guard answer.hasPrefix("HTTP/1.1 2") else { throw BenchError("\(method) \(path): \(answer.prefix(200))") }
    }

    /// The outbox's messages by status.
    static func outboxCounts(socket: String) throws -> [String: Int] {
        let body = try get(socket, "/v1/outbox?limit=1")
        guard let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let counts = json["counts"] as? [String: Int]
        else { throw BenchError("cannot read the outbox counts: \(body.prefix(200))") }
        return counts
    }

    static func expertIDs(socket: String, office: String) throws -> [Int] {
        guard
            let json = try JSONSerialization.jsonObject(with: Data(get(socket, "/v1/experts?office=\(office)").utf8))
                as? [String: Any],
            let list = json["experts"] as? [[String: Any]]
        else { throw BenchError("cannot read the bench experts") }
        return list.filter { ($0["offices"] as? [String]) == [office] }.compactMap { $0["id"] as? Int }
    }
}

/// Runs `body(i)` for i in 0..<count, each on its own thread, and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread {
            body(i)
            group.leave()
        }.start()
    }
    group.wait()
}

/// A counter shared by the benchmark's threads.
final class Atomic: @unchecked Sendable {
    private let lock = NSLock()
    private var count: Int
    init(_ value: Int) { count = value }
    func add(_ n: Int) { lock.withLock { count += n } }
    var value: Int { lock.withLock { count } }
}
