import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL

/// One open connection to an SMTP server: commands out, replies in, each reply awaited with a timeout.
///
/// Errors are thrown as they come from NIO, NIOSSL and `SMTPReplyHandler`; `SMTPClient` turns them into messages.
struct SMTPConnection: Sendable {
    let channel: any Channel
    /// The pipeline's reply handler, held here rather than looked up: once the channel closes, the pipeline is
    /// emptied, and the handler still knows why it closed.
    let replies: NIOLoopBound<SMTPReplyHandler>
    let timeout: TimeAmount

    /// Connects, wrapping the connection in TLS from the start when `implicitTLS` is given.
    static func open(
        host: String, port: Int, implicitTLS: NIOSSLContext?, timeout: TimeAmount, group: any EventLoopGroup
    ) async throws -> SMTPConnection {
        let serverHostname = sniHostname(host)
        return try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let implicitTLS {
                        try pipeline.addHandler(
                            NIOSSLClientHandler(context: implicitTLS, serverHostname: serverHostname))
                    }
                    try pipeline.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    let replies = SMTPReplyHandler()
                    try pipeline.addHandler(replies)
                    return SMTPConnection(
                        channel: channel, replies: NIOLoopBound(replies, eventLoop: channel.eventLoop), timeout: timeout
                    )
                }
            }
    }

    /// The name to send as SNI and to check the certificate against: the host, unless it is an IP address (SNI
    /// cannot carry one; NIOSSL then checks the certificate against the address connected to).
    static func sniHostname(_ host: String) -> String? {
        let isIPv4 =
            host.split(separator: ".", omittingEmptySubsequences: false).count == 4
            && host.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
        return isIPv4 || host.contains(":") ? nil : host
    }

    /// The next reply of the server.
    func reply() async throws -> SMTPReply {
        let (replies, timeout, eventLoop) = (self.replies, self.timeout, channel.eventLoop)
        return try await eventLoop.flatSubmit {
            replies.value.nextReply(on: eventLoop, timeout: timeout)
        }.get()
    }

    /// Sends `line` followed by CRLF and waits for the reply.
    func command(_ line: String) async throws -> SMTPReply {
        try await write(Array((line + "\r\n").utf8))
        return try await reply()
    }

    /// Sends bytes as they are.
    func write(_ bytes: [UInt8]) async throws {
        do {
            try await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).get()
        } catch {
            // A failed write only knows that the channel closed; the reply handler saw why (a TLS failure, a reset).
            let replies = self.replies
            throw try await channel.eventLoop.submit { replies.value.failure }.get() ?? error
        }
    }

    /// Puts TLS in front of everything else in the pipeline, after the server said 220 to STARTTLS. The handshake
    /// runs when the next command is written; its failure surfaces as the error of that command's reply.
    func startTLS(context: NIOSSLContext, host: String) async throws {
        let (channel, replies) = (self.channel, self.replies)
        let serverHostname = Self.sniHostname(host)
        try await channel.eventLoop.submit {
            let pipeline = channel.pipeline.syncOperations
            guard !replies.value.hasUnreadInput else {
                throw SMTPTransportError.malformedReply("(data sent in the clear after the reply to STARTTLS)")
            }
            try pipeline.addHandler(
                NIOSSLClientHandler(context: context, serverHostname: serverHostname), position: .first)
        }.get()
    }

    /// Closes the connection, ignoring errors (it may already be closed).
    func close() async {
        try? await channel.close()
    }
}
