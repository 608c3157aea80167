import Hummingbird
import Logging

/// A request context that knows who is calling: the connection's peer, and the caller the access middleware
/// made of it.
public protocol CallerRequestContext: RequestContext {
    /// The peer of the connection, as the kernel reported it (nil when it could not be read).
    var peer: PeerCredentials? { get }
    /// Who is calling and with which role; set by `CallerMiddleware`, nil before it ran.
    var caller: Caller? { get set }
}

/// The per-request context of the daemon's router.
public struct MediationRequestContext: CallerRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let peer: PeerCredentials?
    public var caller: Caller?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        // Bound for the whole connection when it was admitted: no header carries it (a client could send one).
        peer = PeerCredentials.connection
    }
}
