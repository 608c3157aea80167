import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import MediationAPI
import MediationCore
import MediationStore
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime

/// Builds the daemon's HTTP application.
public enum MediationServer {
    /// The router with every route and middleware; tests drive it in process.
    public static func router(
        db: AppDatabase, policy: AccessPolicy, info: ServerInfo, limits: ServerLimits = ServerLimits()
    ) throws -> Router<MediationRequestContext> {
        try build(db: db, policy: policy, info: info, limits: limits).router
    }

    /// The router and the table of the routes registered on it.
    static func build(db: AppDatabase, policy: AccessPolicy, info: ServerInfo, limits: ServerLimits) throws
        -> (router: Router<MediationRequestContext>, routes: RouteTable)
    {
        // HEAD is answered wherever GET is, with the same status and headers.
        let router = Router(context: MediationRequestContext.self, options: .autoGenerateHeadEndpoints)
        let routes = RouteTable()
        router.add(middleware: RequestMetricsMiddleware())
        router.add(middleware: ErrorMiddleware(limits: limits, routes: routes))
        router.add(middleware: CallerMiddleware(policy: policy))
        // Compact JSON (a 2,000-expert listing is half the bytes of pretty-printed), keys sorted so scripts can
        // diff answers, slashes unescaped so zones read Asia/Shanghai.
        try APIHandler(db: db, info: info, maxBodyBytes: limits.maxBodyBytes).registerHandlers(
            on: RecordingTransport(router: router, table: routes),
            configuration: OpenAPIRuntime.Configuration(jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
            middlewares: [
                OperationAccessMiddleware(
                    policy: policy, limits: limits, contract: try ContractValidator(document: openAPIDocument))
            ])
        return (router, routes)
    }

    /// The application bound to a Unix socket, within `limits`. `onReady` runs once the socket accepts
    /// connections.
    public static func application(
        socketPath: String, db: AppDatabase, policy: AccessPolicy, info: ServerInfo, limits: ServerLimits,
        logger: Logger, onReady: @escaping @Sendable () async -> Void
    ) throws -> some ApplicationProtocol {
        let router = try router(db: db, policy: policy, info: info, limits: limits)
        let idle = TimeAmount(limits.idleTimeout)
        let gate = ConnectionGate(limit: limits.maxConnections, perUID: limits.maxConnectionsPerUID)
        let server = HTTPServerBuilder { responder in
            GuardedHTTP1Channel(
                http1: HTTP1Channel(
                    responder: responder,
                    configuration: .init(
                        additionalChannelHandlers: [RequestBoundaryHandler()],
                        // The guard closes idle connections (spread out) and cuts off slow heads and bodies;
                        // this is the backstop.
                        idleTimeout: max(idle * 2, .seconds(2)))),
                gate: gate, limits: limits, logger: logger)
        }
        return Application(
            router: router, server: server,
            // Connections beyond the limit are accepted to be answered 503, so the kernel's queue stays short.
            configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: nil),
            onServerRunning: { channel in
                try? await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(AcceptErrorHandler(logger: logger), position: .first)
                }.get()
                await onReady()
            },
            logger: logger)
    }
}
