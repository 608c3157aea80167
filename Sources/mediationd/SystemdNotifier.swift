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

    /// Sends `message` (for example `READY=1`); does nothing outside systemd.
    @discardableResult
    func notify(_ message: String) -> Bool {
        guard let path else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard let address = UnixAddress(path) else { return false }
        let sent = Array(message.utf8).withUnsafeBytes { body in
            address.withSockaddr { sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL), $0, $1) }
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
