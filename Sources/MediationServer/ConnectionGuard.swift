import Foundation
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// Counts the daemon's open connections against `socket.max_connections`, and each uid's against
/// `socket.max_connections_per_uid`, so that one caller cannot hold every place. Root and the daemon's own user
/// are held only to the total: the administrator's health check gets through whatever another uid holds.
final class ConnectionGate: Sendable {
    /// Why a connection found no place.
    enum Refusal: Equatable {
        /// Every place is taken.
        case full
        /// Its uid holds its share already.
        case share(uid: UInt32)
    }

    private struct State {
        var open = 0
        var byUID: [UInt32: Int] = [:]
    }

    let limit: Int
    let perUID: Int
    private let exempt: Set<UInt32>
    private let state = NIOLockedValueBox(State())

    init(limit: Int, perUID: Int? = nil, exempt: Set<UInt32> = [0, getuid()]) {
        self.limit = max(limit, 1)
        self.perUID = max(perUID ?? limit, 1)
        self.exempt = exempt
    }

    /// Takes a place for a new connection from `uid` (nil when the kernel did not say, counted as one unknown
    /// caller); the refusal when there is none.
    func enter(uid: UInt32?) -> Refusal? {
        let key = uid ?? UInt32.max
        return state.withLockedValue { s in
            guard s.open < limit else { return .full }
            if !exempt.contains(key) {
                guard s.byUID[key, default: 0] < perUID else { return .share(uid: key) }
                s.byUID[key, default: 0] += 1
            }
            s.open += 1
            return nil
        }
    }

    /// Gives back the place `enter(uid:)` took.
    func leave(uid: UInt32?) {
        let key = uid ?? UInt32.max
        state.withLockedValue { s in
            s.open -= 1
            guard !exempt.contains(key), let held = s.byUID[key] else { return }
            s.byUID[key] = held > 1 ? held - 1 : nil
        }
    }

    var openConnections: Int { state.withLockedValue { $0.open } }

    /// The connections `uid` holds now.
    func held(by uid: UInt32) -> Int { state.withLockedValue { $0.byUID[uid] ?? 0 } }
}

/// HTTP/1.1 on the daemon's socket within its limits: a connection beyond `socket.max_connections`, or beyond its
/// uid's `socket.max_connections_per_uid`, is answered 503 and closed before any HTTP machinery is built for it; a
/// request head that trickles in is cut off after `socket.header_timeout_seconds`, and a body after
/// `socket.body_timeout_seconds`. Each refusal is logged once, when it happens.
struct GuardedHTTP1Channel: ServerChildChannel {
    enum Value: ServerChildChannelValue {
        /// Served, with the peer's credentials as the kernel gave them (nil when it did not).
        case admitted(HTTP1Channel.Value, PeerCredentials?)
        case refused(NIOAsyncChannel<ByteBuffer, ByteBuffer>, ConnectionGate.Refusal)

        var channel: any Channel {
            switch self {
            case .admitted(let value, _): value.channel
            case .refused(let value, _): value.channel
            }
        }
    }

    let http1: HTTP1Channel
    let gate: ConnectionGate
    let limits: ServerLimits
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        // A failed future here would end the server's stream of connections, so every path succeeds.
        PeerCredentials.read(channel).flatMap { credentials in
            let uid = credentials?.uid
            if let refusal = gate.enter(uid: uid) {
                switch refusal {
                case .full:
                    self.logger.notice(
                        "refused a connection: too many are open",
                        metadata: [
                            "open": "\(gate.openConnections)", "limit": "\(gate.limit) (socket.max_connections)",
                        ])
                case .share(let uid):
                    self.logger.notice(
                        "refused a connection: its uid holds its share",
                        metadata: [
                            "uid": "\(uid)", "held": "\(gate.held(by: uid))",
                            "limit": "\(gate.perUID) (socket.max_connections_per_uid)",
                        ])
                }
                return channel.eventLoop.makeCompletedFuture {
                    .refused(try NIOAsyncChannel(wrappingChannelSynchronously: channel), refusal)
                }
            }
            let gate = self.gate
            channel.closeFuture.whenComplete { _ in gate.leave(uid: uid) }
            // First in the pipeline, so that it sees the raw bytes before the HTTP decoder holds them back.
            try? channel.pipeline.syncOperations.addHandler(
                RequestTimer(limits: limits, logger: self.logger), position: .first)
            return http1.setup(channel: channel, logger: logger).map { .admitted($0, credentials) }
        }
    }

    func handle(value: Value, logger: Logger) async {
        switch value {
        case .admitted(let http, let credentials):
            // Every request on this connection is served inside this call: its context reads the peer from here.
            await PeerCredentials.$connection.withValue(credentials) {
                await http1.handle(value: http, logger: logger)
            }
        case .refused(let raw, let refusal):
            let message: String
            switch refusal {
            case .full:
                message =
                    "the daemon already serves its limit of \(gate.limit) connections (socket.max_connections); "
                    + "try again in a moment, and close clients that hold connections open"
            case .share(let uid):
                let user = AccessPolicy.userName(uid).map { " (\($0))" } ?? ""
                message =
                    "uid \(uid)\(user) already holds \(gate.perUID) connections, its share "
                    + "(socket.max_connections_per_uid); close the ones it holds open (a client that starts requests "
                    + "and does not finish them), then try again"
            }
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

/// Cuts off a request that arrives too slowly. Once a request's first byte is read, its request line and headers
/// must follow within `socket.header_timeout_seconds`, and its body within `socket.body_timeout_seconds` of the
/// head (a total, however steadily it trickles), or the connection is answered 408 and closed. Before that first
/// byte the connection is idle, and is closed after `idleTimeout` and up to a tenth more: connections opened
/// together then expire spread out, not in one burst that would hold up everyone else's answers.
final class RequestTimer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State {
        case waiting
        case readingHead
        case readingBody
        case inRequest
    }

    private let limits: ServerLimits
    private let logger: Logger
    private var state = State.waiting
    private var bytes = 0
    private var responseStarted = false
    private var deadline: Scheduled<Void>?
    private var idleDeadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limits: ServerLimits, logger: Logger) {
        self.limits = limits
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
        let base = TimeAmount(limits.idleTimeout).nanoseconds
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

    private func schedule(_ timeout: Duration, context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            expire(context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if state == .waiting {
            stopIdle()
            state = .readingHead
            bytes = 0
            responseStarted = false
            schedule(limits.headerTimeout, context: context)
        }
        if state == .readingHead || state == .readingBody { bytes += unwrapInboundIn(data).readableBytes }
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

    /// The HTTP decoder produced the request's head: its body has `socket.body_timeout_seconds` from now.
    func headArrived() {
        cancel()
        state = .readingBody
        bytes = 0
        if let context { schedule(limits.bodyTimeout, context: context) }
    }

    /// The HTTP decoder produced the request's end.
    func bodyArrived() {
        cancel()
        state = .inRequest
    }

    /// The answer's head went out (an early one, such as a refusal, may go before the body is in).
    func responseBegan() { responseStarted = true }

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
        guard state == .readingHead || state == .readingBody, context.channel.isActive else { return }
        let (part, key, timeout) =
            state == .readingHead
            ? ("request line and headers", "socket.header_timeout_seconds", limits.headerTimeout)
            : ("request body", "socket.body_timeout_seconds", limits.bodyTimeout)
        let seconds = timeout.components.seconds
        logger.notice(
            "closed a connection: its \(state == .readingHead ? "request head" : "request body") did not arrive in time",
            metadata: ["waited": "\(seconds) s (\(key))", "received": "\(bytes) bytes"])
        if !responseStarted {
            let response = RawResponse.make(
                status: "408 Request Timeout", code: "invalid_input",
                message: "the \(part) did not arrive within \(seconds) s (\(key)); send each request whole")
            context.writeAndFlush(NIOAny(response), promise: nil)
        }
        context.close(promise: nil)
    }
}

/// Tells the connection's `RequestTimer` where requests begin and end, as the HTTP codec sees them, and closes the
/// connection after an answer that comes before its request was read whole (a refusal, a body too large) or that
/// refuses the caller (403): the client gets its answer with `Connection: close`, and nothing it still sends can
/// hold the connection.
final class RequestBoundaryHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var timer: RequestTimer?
    private var requestRead = false
    private var responseWritten = false
    private var closeAfterResponse = false

    func handlerAdded(context: ChannelHandlerContext) {
        timer = try? context.pipeline.syncOperations.handler(type: RequestTimer.self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            requestRead = false
            responseWritten = false
            closeAfterResponse = false
            timer?.headArrived()
        case .body: break
        case .end:
            requestRead = true
            timer?.bodyArrived()
            finishIfDone()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200:
            timer?.responseBegan()
            closeAfterResponse = !requestRead || head.status == .forbidden
            guard closeAfterResponse else { break }
            head.headerFields[.connection] = "close"
            return context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .head, .body: break
        case .end:
            responseWritten = true
            guard closeAfterResponse else {
                finishIfDone()
                break
            }
            // Closed once the answer is handed to the socket, so the client reads it before the end of file.
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            if let promise { written.futureResult.cascade(to: promise) }
            context.write(data, promise: written)
            return context.flush()
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
