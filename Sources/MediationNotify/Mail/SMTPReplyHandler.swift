import NIOCore

/// The last handler of an SMTP client pipeline: turns lines (from `LineBasedFrameDecoder`) into replies and hands
/// each one to the next caller of `nextReply`, or keeps it until someone asks.
///
/// All state is touched on the channel's event loop only.
final class SMTPReplyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var parser = SMTPReplyParser()
    /// Replies that arrived before anyone asked for them.
    private var unread: CircularBuffer<SMTPReply> = []
    private var waiter: (promise: EventLoopPromise<SMTPReply>, timeout: Scheduled<Void>)?
    /// Set once the connection is unusable; every later request fails with it.
    private(set) var failure: (any Error)?

    /// True when a reply, or part of one, has been read that nobody asked for yet. After STARTTLS this must be
    /// false: anything read before the TLS handshake but after the 220 was injected in the clear.
    var hasUnreadInput: Bool { !unread.isEmpty || parser.isInsideReply }

    /// The next reply, failing with `SMTPTransportError.timedOut` when none comes within `timeout`.
    func nextReply(on eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<SMTPReply> {
        if let reply = unread.popFirst() {
            return eventLoop.makeSucceededFuture(reply)
        }
        if let failure {
            return eventLoop.makeFailedFuture(failure)
        }
        guard waiter == nil else {
            return eventLoop.makeFailedFuture(SMTPTransportError.overlappingRead)
        }
        let promise = eventLoop.makePromise(of: SMTPReply.self)
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.fail(SMTPTransportError.timedOut, permanently: false)
        }
        waiter = (promise, timer)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = String(buffer: unwrapInboundIn(data))
        do {
            guard let reply = try parser.feed(line) else { return }
            if let waiter {
                self.waiter = nil
                waiter.timeout.cancel()
                waiter.promise.succeed(reply)
            } else {
                unread.append(reply)
            }
        } catch {
            fail(error, permanently: true)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(SMTPTransportError.closed, permanently: true)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // TLS failures arrive here; keep the first error, which is the cause, not the close that follows it.
        fail(error, permanently: true)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error, permanently: Bool) {
        if permanently && failure == nil {
            failure = error
        }
        if let waiter {
            self.waiter = nil
            waiter.timeout.cancel()
            waiter.promise.fail(failure ?? error)
        }
    }
}
