import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A client connection to a Unix socket at the byte level, for input no well-behaved client would send.
final class RawConnection {
    let fd: Int32

    /// Connects, or throws saying why.
    init(_ path: String) throws {
        fd = connectUnix(path)
        guard fd >= 0 else { throw HarnessError("connect(\(path)): \(String(cString: strerror(errno)))") }
    }

    /// Writes every byte; false when the daemon has closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Sends `bytes` until all are sent, the daemon answers, or it stops reading for 10 s; as curl does,
    /// a client stops sending a body the server has already refused.
    func sendUntilAnswered(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN | POLLOUT), revents: 0)
            guard poll(&pfd, 1, 10_000) > 0, pfd.revents & Int16(POLLIN | POLLHUP | POLLERR) == 0 else { return }
            let n = bytes[sent...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, min($0.count, 65536), Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n < 0 && errno != EAGAIN { return }
            sent += max(n, 0)
        }
    }

    /// Reads until the daemon closes the connection or `timeout` passes; `closed` says which.
    func readAll(timeout: TimeInterval) -> (data: [UInt8], closed: Bool) {
        var data: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, left) > 0 else { return (data, false) }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return (data, true) }
            data.append(contentsOf: buffer[0..<n])
        }
    }

    /// Reads until what arrived contains `text`; false when the connection closes or `timeout` passes first.
    func readUntil(_ text: String, timeout: TimeInterval) -> Bool {
        var data: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !String(decoding: data, as: UTF8.self).contains(text) {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(max(0, deadline.timeIntervalSinceNow * 1000))) > 0 else { return false }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return false }
            data.append(contentsOf: buffer[0..<n])
        }
        return true
    }

    /// True when the daemon has closed its end (a read would return end of file) within `timeout`.
    func closedByPeer(within timeout: TimeInterval) -> Bool { readAll(timeout: timeout).closed }

    deinit { close(fd) }
}

/// One HTTP request on a fresh connection: (status, body, seconds taken), the way mediationctl connects.
func rawRequest(_ path: String, _ request: String, timeout: TimeInterval = 10) throws -> (Int, String, Double) {
    let started = DispatchTime.now()
    let connection = try RawConnection(path)
    connection.send(request)
    let (data, _) = connection.readAll(timeout: timeout)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
    let text = String(decoding: data, as: UTF8.self)
    let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? -1
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body, seconds)
}

/// The resident memory of a process in KiB, from /proc.
func residentKiB(_ pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? -1
}

/// The processor time a process has used (user and system), from /proc; -1 when it cannot be read.
func processorSeconds(_ pid: Int32) -> Double {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    // utime and stime are fields 14 and 15; after the ")" that ends the command name, the 12th and 13th.
    let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
    guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return -1 }
    return Double(user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// How many files a process holds open, from /proc.
func openFiles(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
}

/// Lets this test process hold a thousand connections whatever the shell's soft limit.
func raiseOwnFileLimit() {
    var limit = rlimit()
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(resource, &limit)
}

/// Health probes on fresh connections, one after another, until stopped; their latencies in milliseconds.
final class HealthProber: @unchecked Sendable {
    private let socketPath: String
    private let lock = NSLock()
    private var latencies: [Double] = []
    private var slowest: [(at: Double, ms: Double)] = []
    private let started = Date()
    private var failures: [String] = []
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(socket: String) {
        socketPath = socket
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                do {
                    let (status, body, seconds) = try rawRequest(
                        socketPath, "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    lock.withLock {
                        if status == 200 {
                            latencies.append(seconds * 1000)
                            slowest.append((Date().timeIntervalSince(started) - seconds, seconds * 1000))
                            slowest = Array(slowest.sorted { $0.ms > $1.ms }.prefix(5))
                        } else {
                            failures.append("\(status) \(body)")
                        }
                    }
                } catch {
                    lock.withLock { failures.append("\(error)") }
                }
                usleep(5_000)
            }
            done.signal()
        }
    }

    /// The five slowest probes: when they began (seconds after probing began) and how long they took.
    var slowestProbes: String {
        lock.withLock { slowest.map { String(format: "%.0f ms at %.1f s", $0.ms, $0.at) }.joined(separator: ", ") }
    }

    /// Stops probing; returns the latencies (ms) and the failed probes.
    func stop() -> (latencies: [Double], failures: [String]) {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { (latencies, failures) }
    }
}

/// The value below which `fraction` of `values` lie.
func percentile(_ values: [Double], _ fraction: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
}
