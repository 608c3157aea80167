import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import MediationCore
import MediationStore
import Mustache
import NIOCore

/// The request context of the console: Hummingbird's, plus the peer's address for the audit trail.
public struct WebRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address, or "-" when there is none (tests in process).
    public let address: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        address = source.channel.remoteAddress?.ipAddress ?? "-"
    }
}

/// 调解工作台: the web console for office staff, served by the daemon on `web.listen`. Every page calls the store's
/// and Core's functions (the same as the API's handlers); the rules of accounts, sessions and office scope are in
/// `AccountRules`, `OfficeScope` and the store, never here.
public enum WebConsole {
    /// Settings the daemon reads from `web.*`.
    public struct Settings: Sendable {
        /// Whether the console is served over TLS: its cookie is then `Secure`.
        public var secure: Bool

        public init(secure: Bool = false) { self.secure = secure }
    }

    /// The router with every page; tests drive it in process.
    public static func router(db: AppDatabase, clock: any WallClock, settings: Settings = Settings()) throws
        -> Router<WebRequestContext>
    {
        let pages = try Pages(db: db, clock: clock, settings: settings)
        let router = Router(context: WebRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware(pages: pages))
        // The style sheet and the icon: no personal data, so they may be cached.
        for (path, name, type) in [
            ("static/console.css", "console.css", "text/css; charset=utf-8"),
            ("static/icon.svg", "icon.svg", "image/svg+xml"), ("favicon.ico", "icon.svg", "image/svg+xml"),
        ] {
            let text = embeddedWebAssets[name] ?? ""
            router.get(RouterPath(path)) { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = type
                headers[.cacheControl] = "public, max-age=3600"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
            }
        }
        router.get("login") { request, context in try await pages.loginPage(request, context) }
        router.post("login") { request, context in try await pages.logIn(request, context) }
        router.get("lang/{language}") { request, context in pages.switchLanguage(request, context) }
        router.post("logout") { request, context in try await pages.logOut(request, context) }
        router.get("password") { request, context in try await pages.passwordPage(request, context) }
        router.post("password") { request, context in try await pages.changePassword(request, context) }
        router.get("/") { request, context in try await pages.dashboard(request, context) }
        router.get("disputes") { request, context in try await pages.disputeList(request, context) }
        router.get("disputes/{ref}") { request, context in try await pages.disputeFile(request, context) }
        return router
    }

    /// The console bound to `host:port` (port 0: any free one). `onReady` gets the port it listens on.
    public static func application(
        host: String, port: Int, db: AppDatabase, clock: any WallClock, settings: Settings, logger: Logger,
        onReady: @escaping @Sendable (Int) async -> Void
    ) throws -> some ApplicationProtocol {
        let router = try router(db: db, clock: clock, settings: settings)
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? port) }, logger: logger)
    }
}

/// The headers every answer carries: no script or frame from elsewhere, no referrer, and no copy kept of a page.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    let pages: Pages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do { response = try await next(request, context) } catch { response = pages.errorPage(error, request) }
        response.headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
        for (name, value) in [("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY")] {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
