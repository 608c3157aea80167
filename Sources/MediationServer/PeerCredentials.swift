import Glibc
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The peer of a Unix socket connection as the kernel reports it (SO_PEERCRED).
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

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

    /// Reads the credentials of a connected Unix-socket channel. Must run on the channel's event loop,
    /// where NIO answers at once; returns nil for any other kind of channel.
    static func read(_ channel: any Channel, _ body: @escaping @Sendable (PeerCredentials?) -> Void) {
        read(channel).whenSuccess(body)
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

    /// The internal header the connection handler stamps on each request; a client's own copy is removed.
    static let headerName: HTTPField.Name = {
        guard let name = HTTPField.Name("x-mediationd-peer") else {
            preconditionFailure("x-mediationd-peer is a valid header name")
        }
        return name
    }()

    var headerValue: String { "\(pid) \(uid) \(gid)" }

    init?(headerValue: String) {
        let parts = headerValue.split(separator: " ")
        guard parts.count == 3, let pid = Int32(parts[0]), let uid = UInt32(parts[1]), let gid = UInt32(parts[2])
        else { return nil }
        self.init(pid: pid, uid: uid, gid: gid)
    }
}

/// Reads the peer's credentials once per connection and stamps them on every request head,
/// replacing whatever a client may have sent under the same name.
final class PeerCredentialsHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private var credentials: PeerCredentials?

    func handlerAdded(context: ChannelHandlerContext) {
        let box = NIOLoopBound(self, eventLoop: context.eventLoop)
        PeerCredentials.read(context.channel) { creds in
            // NIO completes the future on the event loop, so the handler is touched only there.
            box.value.credentials = creds
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        if case .head(var head) = part {
            head.headerFields[PeerCredentials.headerName] = nil
            if let credentials { head.headerFields[PeerCredentials.headerName] = credentials.headerValue }
            part = .head(head)
        }
        context.fireChannelRead(wrapInboundOut(part))
    }
}
