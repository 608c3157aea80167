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
    /// Connections one uid may hold at once, so that no single caller can take every place; one more from it is
    /// answered 503 and closed (`socket.max_connections_per_uid`). Root and the daemon's own user are held only to
    /// `maxConnections`.
    public var maxConnectionsPerUID: Int
    /// A connection with no request in progress is closed after this long (`socket.idle_timeout_seconds`).
    public var idleTimeout: Duration
    /// A request's head (request line and headers) must arrive whole this soon after its first byte, or the
    /// connection is answered 408 and closed (`socket.header_timeout_seconds`).
    public var headerTimeout: Duration
    /// A request's body must arrive whole this soon after its head, however steadily it trickles, or the
    /// connection is answered 408 and closed (`socket.body_timeout_seconds`).
    public var bodyTimeout: Duration

    /// JSON bodies nest at most this deep; the API's own documents nest four levels.
    public static let maxJSONDepth = 32

    public init(
        maxBodyBytes: Int = 1 << 20, maxConnections: Int = 256, maxConnectionsPerUID: Int = 32,
        idleTimeout: Duration = .seconds(60), headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30)
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.maxConnections = maxConnections
        self.maxConnectionsPerUID = maxConnectionsPerUID
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
    }
}
