/// Limits that keep the daemon responsive and its memory bounded under oversized, slow or abundant input
/// (`socket.*` in the configuration).
///
/// For example:
/// ```swift
/// var limits = ServerLimits()
/// limits.maxConnections = 64
/// ```
public struct ServerLimits: Sendable, Equatable {
    /// Bodies larger than this are refused with 413 (`socket.max_body_kib`).
    public var maxBodyBytes: Int
    /// Connections open at once; one more is answered 503 and closed (`socket.max_connections`).
    public var maxConnections: Int
    /// A connection with no request in progress is closed after this long (`socket.idle_timeout_seconds`).
    public var idleTimeout: Duration
    /// A request's head (request line and headers) must arrive whole this soon after its first byte, or the
    /// connection is answered 408 and closed (`socket.header_timeout_seconds`).
    public var headerTimeout: Duration

    /// JSON bodies nest at most this deep; the API's own documents nest four levels.
    public static let maxJSONDepth = 32

    public init(
        maxBodyBytes: Int = 1 << 20, maxConnections: Int = 256, idleTimeout: Duration = .seconds(60),
        headerTimeout: Duration = .seconds(10)
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
    }
}
