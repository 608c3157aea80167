import Glibc
import NIOCore

/// The peer of a Unix socket connection as the kernel reports it (SO_PEERCRED).
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    /// The peer of the connection being served, bound for the connection's whole task when it is admitted (see
    /// `GuardedHTTP1Channel`); each request's context takes it from there (`MediationRequestContext.peer`).
    @TaskLocal public static var connection: PeerCredentials?

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// The layout of `struct ucred`: 12 bytes, pid then uid then gid.
    struct Raw: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// The credentials of a connected Unix-socket channel, or nil (never a failed future).
    static func read(_ channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let future: EventLoopFuture<Raw> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { raw in PeerCredentials(pid: raw.pid, uid: raw.uid, gid: raw.gid) }.recover { _ in nil }
    }
}
