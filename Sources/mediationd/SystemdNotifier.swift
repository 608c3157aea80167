import Foundation
import Glibc
import Logging
import ServiceLifecycle

/// Talks to systemd through `$NOTIFY_SOCKET` (sd_notify's protocol): one datagram per state change.
struct SystemdNotifier: Sendable {
    let path: String?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var isEnabled: Bool { path != nil }

    /// Sends `message` (for example `READY=1`); does nothing outside systemd.
    @discardableResult
    func notify(_ message: String) -> Bool {
        guard let path else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        // A leading '@' names an abstract socket: its first byte is NUL and the length excludes a terminator.
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            if !abstract { raw[bytes.count] = 0 }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let sent = Array(message.utf8).withUnsafeBytes { body in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        return sent >= 0
    }

    /// Half of `WATCHDOG_USEC`, when systemd asks for keep-alives for this process.
    static func watchdogInterval(environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration? {
        guard let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return .microseconds(Int64(usec / 2))
    }
}

/// Sends `WATCHDOG=1` at half the watchdog interval and `STOPPING=1` when shutdown begins.
/// It stands last in the service group, so it is the first to hear of shutdown.
struct SystemdService: Service {
    let notifier: SystemdNotifier
    let watchdog: Duration?
    let logger: Logger

    func run() async throws {
        if let watchdog {
            logger.info("systemd watchdog on", metadata: ["interval": "\(watchdog)"])
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                notifier.notify("WATCHDOG=1")
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: watchdog) }
            }
        } else {
            try? await gracefulShutdown()
        }
        notifier.notify("STOPPING=1")
    }
}
