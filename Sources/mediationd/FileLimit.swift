import Glibc
import Logging
import MediationServer

/// The open-file limit, which bounds how many connections the daemon can hold.
enum FileLimit {
    /// Descriptors kept for the database and its readers, the spool, outgoing mail and the listening socket.
    static let reserve = 64

    /// Raises the soft limit on open files to the hard limit (systemd's default soft limit is 1,024), and
    /// returns the soft limit in force.
    static func raise() -> Int {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return 1024 }
        let wanted = min(limit.rlim_max, 1 << 20)
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = wanted
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// The connections that fit beside the reserve, at least one.
    static func connections(fitting files: Int) -> Int { max(files - reserve, 1) }
}

/// The configured limits, with `socket.max_connections` lowered to what the open-file limit can hold.
func connectionLimits(_ configured: ServerLimits, logger: Logger) -> ServerLimits {
    var limits = configured
    let files = FileLimit.raise()
    let fits = FileLimit.connections(fitting: files)
    if limits.maxConnections > fits {
        logger.warning(
            "socket.max_connections does not fit the open-file limit; serving fewer (raise LimitNOFILE to serve more)",
            metadata: ["configured": "\(limits.maxConnections)", "serving": "\(fits)", "open-file limit": "\(files)"])
        limits.maxConnections = fits
    }
    return limits
}
