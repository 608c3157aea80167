import Foundation
import Hummingbird
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
    public static func router(db: AppDatabase, policy: AccessPolicy, info: ServerInfo) throws -> Router<
        MediationRequestContext
    > {
        // HEAD is answered wherever GET is, with the same status and headers.
        let router = Router(context: MediationRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestMetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AccessMiddleware(policy: policy))
        // Compact JSON (a 2,000-expert listing is half the bytes of pretty-printed), keys sorted so scripts can
        // diff answers, slashes unescaped so zones read Asia/Shanghai.
        try APIHandler(db: db, info: info).registerHandlers(
            on: router,
            configuration: OpenAPIRuntime.Configuration(jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]))
        return router
    }

    /// The application bound to a Unix socket. `onReady` runs once the socket accepts connections.
    public static func application(
        socketPath: String, db: AppDatabase, policy: AccessPolicy, info: ServerInfo, idleTimeout: Duration,
        logger: Logger, onReady: @escaping @Sendable () async -> Void
    ) throws -> some ApplicationProtocol {
        let router = try router(db: db, policy: policy, info: info)
        let seconds = Int64(idleTimeout.components.seconds)
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [PeerCredentialsHandler()], idleTimeout: .seconds(max(seconds, 1)))),
            configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: nil),
            onServerRunning: { _ in await onReady() },
            logger: logger)
    }
}
