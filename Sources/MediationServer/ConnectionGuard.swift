import Foundation
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// Counts the daemon's open connections against `socket.max_connections`.
final class ConnectionGate: Sendable {
    let limit: Int
    private let open = NIOLockedValueBox(0)

    init(limit: Int) { self.limit = max(limit, 1) }

    /// Takes a place for a new connection; false when every place is taken.
    func enter() -> Bool {
        open.withLockedValue { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { open.withLockedValue { $0 -= 1 } }

    var openConnections: Int { open.withLockedValue { $0 } }
}

/// HTTP/1.1 on the daemon's socket within its limits: a connection beyond `socket.max_connections` is answered
/// 503 and closed before any HTTP machinery is built for it, and a request head that trickles in is cut off
/// after `socket.header_timeout_seconds`. Each refusal is logged once, when it happens.
struct GuardedHTTP1Channel: ServerChildChannel {
    enum Value: ServerChildChannelValue {
        case admitted(HTTP1Channel.Value)
        case refused(NIOAsyncChannel<ByteBuffer, ByteBuffer>)

        var channel: any Channel {
            switch self {
            case .admitted(let value): value.channel
            case .refused(let value): value.channel
            }
        }
    }

    let http1: HTTP1Channel
    let gate: ConnectionGate
    let headerTimeout: Duration
    let idleTimeout: Duration
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        // A failed future here would end the server's stream of connections, so every path succeeds.
        guard gate.enter() else {
            self.logger.notice(
                "refused a connection: too many are open",
                metadata: ["open": "\(gate.openConnections)", "limit": "\(gate.limit) (socket.max_connections)"])
            return channel.eventLoop.makeCompletedFuture {
                .refused(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
            }
        }
        let gate = self.gate
        channel.closeFuture.whenComplete { _ in gate.leave() }
        // First in the pipeline, so that it sees the raw bytes before the HTTP decoder holds them back.
        try? channel.pipeline.syncOperations.addHandler(
            RequestHeadTimer(timeout: headerTimeout, idleTimeout: idleTimeout, logger: self.logger), position: .first)
        return http1.setup(channel: channel, logger: logger).map { .admitted($0) }
    }

    func handle(value: Value, logger: Logger) async {
        switch value {
        case .admitted(let http):
            await http1.handle(value: http, logger: logger)
        case .refused(let raw):
            let message =
                "the daemon already serves its limit of \(gate.limit) connections (socket.max_connections); "
                + "try again in a moment, and close clients that hold connections open"
            let response = RawResponse.make(
                status: "503 Service Unavailable", code: "unavailable", message: message, extra: "Retry-After: 1\r\n")
            try? await raw.executeThenClose { _, outbound in try await outbound.write(response) }
        }
    }
}

/// A whole HTTP/1.1 response with the API's JSON error body, for connections the HTTP machinery never serves.
enum RawResponse {
    static func make(status: String, code: String, message: String, extra: String = "") -> ByteBuffer {
        let body = ErrorMapping.body(code: code, message: message, details: [])
        let head =
            "HTTP/1.1 \(status)\r\nContent-Type: application/json; charset=utf-8\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\(extra)\r\n"
        var buffer = ByteBuffer(string: head)
        buffer.writeBytes(body)
        return buffer
    }
}

/// Cuts off a request head that arrives too slowly: once a request's first byte is read, its request line and
/// headers must follow within `timeout`, or the connection is answered 408 and closed. Before that first byte
/// the connection is idle, and is closed after `idleTimeout` and up to a tenth more: connections opened together
/// then expire spread out, not in one burst that would hold up everyone else's answers.
final class RequestHeadTimer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State {
        case waiting
        case readingHead
        case inRequest
    }

    private let timeout: Duration
    private let idleTimeout: Duration
    private let logger: Logger
    private var state = State.waiting
    private var bytes = 0
    private var deadline: Scheduled<Void>?
    private var idleDeadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(timeout: Duration, idleTimeout: Duration, logger: Logger) {
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { startIdle() }
    }

    func channelActive(context: ChannelHandlerContext) {
        startIdle()
        context.fireChannelActive()
    }

    private func startIdle() {
        guard let context, idleDeadline == nil else { return }
        let base = TimeAmount(idleTimeout).nanoseconds
        let wait = TimeAmount.nanoseconds(base + Int64.random(in: 0...max(base / 10, 0)))
        idleDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: wait) { [self] in
            idleDeadline = nil
            if state == .waiting { context.close(promise: nil) }
        }
    }

    private func stopIdle() {
        idleDeadline?.cancel()
        idleDeadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if state == .waiting {
            stopIdle()
            state = .readingHead
            bytes = 0
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
                expire(context: context)
            }
        }
        if state == .readingHead { bytes += unwrapInboundIn(data).readableBytes }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
        self.context = nil
    }

    /// The HTTP decoder produced the request's head.
    func headArrived() {
        cancel()
        state = .inRequest
    }

    /// The request was read and answered; the next byte starts the next head.
    func requestFinished() {
        state = .waiting
        startIdle()
    }

    private func cancel() {
        deadline?.cancel()
        deadline = nil
        stopIdle()
    }

    private func expire(context: ChannelHandlerContext) {
        deadline = nil
        guard state == .readingHead, context.channel.isActive else { return }
        let seconds = timeout.components.seconds
        logger.notice(
            "closed a connection: its request head did not arrive in time",
            metadata: ["waited": "\(seconds) s (socket.header_timeout_seconds)", "received": "\(bytes) bytes"])
        let response = RawResponse.make(
            status: "408 Request Timeout", code: "invalid_input",
            message:
                "the request line and headers did not arrive within \(seconds) s "
                + "(socket.header_timeout_seconds); send each request whole")
        context.writeAndFlush(NIOAny(response), promise: nil)
        context.close(promise: nil)
    }
}

/// Tells the connection's `RequestHeadTimer` where requests begin and end, as the HTTP codec sees them.
final class RequestBoundaryHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var timer: RequestHeadTimer?
    private var requestRead = false
    private var responseWritten = false

    func handlerAdded(context: ChannelHandlerContext) {
        timer = try? context.pipeline.syncOperations.handler(type: RequestHeadTimer.self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestRead = false
            responseWritten = false
            timer?.headArrived()
        case .body: break
        case .end:
            requestRead = true
            finishIfDone()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            responseWritten = true
            finishIfDone()
        }
        context.write(data, promise: promise)
    }

    // An early answer (413 while the body still arrives) waits for the body's end before timing the next head.
    private func finishIfDone() {
        if requestRead && responseWritten { timer?.requestFinished() }
    }
}

/// Keeps the server accepting when an accept fails for want of file descriptors or memory. NIO reports such
/// failures through the listening channel, where they would otherwise end the server's stream of connections;
/// and the kernel keeps offering the pending connection, so accepting pauses a moment instead of spinning.
final class AcceptErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = any Channel
    typealias OutboundIn = Never
    typealias OutboundOut = Never

    private let logger: Logger
    private let pause: TimeAmount
    private var paused = false
    private var readWanted = false
    private var lastLogged: NIODeadline?
    private var unlogged = 0

    init(logger: Logger, pause: TimeAmount = .milliseconds(100)) {
        self.logger = logger
        self.pause = pause
    }

    func read(context: ChannelHandlerContext) {
        guard !paused else {
            readWanted = true
            return
        }
        context.read()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let io = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED].contains(io.errnoCode)
        else { return context.fireErrorCaught(error) }
        let now = NIODeadline.now()
        if let lastLogged, now - lastLogged < .seconds(1) {
            unlogged += 1
        } else {
            lastLogged = now
            logger.error(
                "cannot accept a connection; raise the file limit (LimitNOFILE) or lower socket.max_connections",
                metadata: ["why": "\(io.description)", "repeats since last line": "\(unlogged)"])
            unlogged = 0
        }
        guard !paused else { return }
        paused = true
        // With autoRead the channel reads again by itself, past `read(context:)`: switch it off for the pause.
        let options = context.channel.syncOptions
        let autoRead = (try? options?.getOption(ChannelOptions.autoRead)) ?? false
        if autoRead { try? options?.setOption(ChannelOptions.autoRead, value: false) }
        context.eventLoop.assumeIsolated().scheduleTask(in: pause) { [self] in
            paused = false
            if autoRead { try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true) }
            if readWanted {
                readWanted = false
                context.read()
            }
        }
    }
}
