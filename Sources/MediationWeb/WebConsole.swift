import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import MediationCore
import MediationStore
import Mustache
import NIOCore
import NIOSSL

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
        /// The PEM files of the certificate (chain) and its private key (`web.tls.certificate`, `web.tls.key`);
        /// nil for plain HTTP (loopback, or behind a proxy that terminates TLS).
        public var tls: (certificate: String, key: String)?

        /// The dispute categories the daemon accepts (`disputes.categories`), as the API's intake reads them.
        public var categories: [String]
        /// The scheduling rules (`scheduling.*`), video rooms (`rooms.*`) and the outbox a booking tells: the API's.
        public var rules: SchedulingRules
        public var rooms: any SessionRooms
        public var notices: any ChangeNotices
        /// When follow-up visits are planned after an agreement (`followups.*`).
        public var followUps: FollowUpPolicy
        /// Whether admins must sign in with an authenticator code too (`web.require_totp_for_admins`).
        public var requireTOTPForAdmins: Bool
        /// Failed sign-ins counted by address, shared by every request of this console.
        public let throttle = LoginThrottle()
        /// Who may see parties' full numbers (`privacy.reveal_roles`): the API's policy object, reloaded with it.
        public var privacy: PrivacyPolicy
        /// The right-hand side of the sessions' calendar UIDs (`notices.domain`), so a feed's events are the
        /// invitations' own.
        public var calendarDomain = "mediation.local"
        /// The address people open (`web.public_url`, else the listen address), for the addresses the console shows
        /// staff to send on: an expert's calendar feed.
        public var publicURL: String?

        /// Whether the console is served over TLS: its cookie is then `Secure`.
        public var secure: Bool { tls != nil }

        public init(
            tls: (certificate: String, key: String)? = nil, categories: [String] = Dispute.defaultCategories,
            rules: SchedulingRules = SchedulingRules(), rooms: any SessionRooms = NoRooms(),
            notices: any ChangeNotices = NoChangeNotices(), followUps: FollowUpPolicy = FollowUpPolicy(),
            privacy: PrivacyPolicy = PrivacyPolicy(), requireTOTPForAdmins: Bool = false
        ) {
            self.requireTOTPForAdmins = requireTOTPForAdmins
            self.privacy = privacy
            self.tls = tls
            self.categories = categories
            self.rules = rules
            self.rooms = rooms
            self.notices = notices
            self.followUps = followUps
        }
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
            ("static/icon.svg", "icon.svg", "image/svg+xml"),
            ("static/roster.js", "roster.js", "text/javascript; charset=utf-8"),
            ("favicon.ico", "icon.svg", "image/svg+xml"),
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
        router.get("totp") { request, context in try await pages.totpPage(request, context) }
        router.post("totp") { request, context in try await pages.enableTOTP(request, context) }
        router.get("password") { request, context in try await pages.passwordPage(request, context) }
        router.post("password") { request, context in try await pages.changePassword(request, context) }
        router.get("/") { request, context in try await pages.dashboard(request, context) }
        router.get("disputes") { request, context in try await pages.disputeList(request, context) }
        router.get("disputes/new") { request, context in try await pages.intakePage(request, context) }
        router.post("disputes/new") { request, context in try await pages.intake(request, context) }
        router.get("disputes/{ref}") { request, context in try await pages.disputeFile(request, context) }
        router.get("disputes/{ref}/find") { request, context in try await pages.findPage(request, context) }
        router.post("disputes/{ref}/find") { request, context in try await pages.find(request, context) }
        router.post("disputes/{ref}/book") { request, context in try await pages.book(request, context) }
        router.post("disputes/{ref}/escalations") { request, context in
            try await pages.addEscalation(request, context)
        }
        router.post("disputes/{ref}/reveal") { request, context in try await pages.revealParties(request, context) }
        router.post("disputes/{ref}/conflicts/remove") { request, context in
            try await pages.removeConflict(request, context)
        }
        router.post("disputes/{ref}/conflicts") { request, context in try await pages.addConflict(request, context) }
        router.get("followups") { request, context in try await pages.followUps(request, context) }
        router.post("followups/{id}") { request, context in try await pages.recordFollowUp(request, context) }
        router.get("experts") { request, context in try await pages.experts(request, context) }
        router.get("experts/import") { request, context in try await pages.rosterPage(request, context) }
        router.post("experts/import") { request, context in try await pages.importRoster(request, context) }
        router.get("experts/export.csv") { request, context in try await pages.exportRoster(request, context) }
        router.get("experts/{id}") { request, context in try await pages.expert(request, context) }
        router.post("experts/{id}/spans") { request, context in try await pages.addSpan(request, context) }
        router.post("experts/{id}/spans/remove") { request, context in try await pages.removeSpan(request, context) }
        router.post("experts/{id}/feed/reset") { request, context in try await pages.resetFeed(request, context) }
        router.get("sessions/{id}") { request, context in try await pages.sessionPage(request, context) }
        router.post("sessions/{id}/mark") { request, context in try await pages.markSession(request, context) }
        router.post("sessions/{id}/cancel") { request, context in try await pages.cancelSession(request, context) }
        router.get("sessions/{id}/record") { request, context in try await pages.sessionRecord(request, context) }
        router.get("sessions/{id}/agreement") { request, context in try await pages.agreement(request, context) }
        router.post("sessions/{id}/rsvp") { request, context in try await pages.rsvp(request, context) }
        router.post("sessions/{id}/replace") { request, context in try await pages.replaceMember(request, context) }
        router.post("sessions/{id}/reschedule") { request, context in
            try await pages.rescheduleSession(request, context)
        }
        router.post("sessions/{id}/outcome") { request, context in try await pages.recordOutcome(request, context) }
        router.post("sessions/{id}/outcome/amend") { request, context in try await pages.amendOutcome(request, context)
        }
        router.post("sessions/{id}/outcome/void") { request, context in try await pages.voidOutcome(request, context) }
        router.get("admin/users") { request, context in try await pages.users(request, context) }
        router.get("admin/offices") { request, context in try await pages.offices(request, context) }
        router.get("admin/policies") { request, context in try await pages.policies(request, context) }
        router.get("week") { request, context in try await pages.week(request, context) }
        router.get("review") { request, context in try await pages.review(request, context) }
        router.get("review/outcomes") { request, context in try await pages.outcomeReview(request, context) }
        router.get("review/outcomes.csv") { request, context in try await pages.outcomeReviewCSV(request, context) }
        router.get("review.csv") { request, context in try await pages.reviewCSV(request, context) }
        // An expert's own calendar (webcal://…/feeds/TOKEN.ics): no sign-in, the token is the key.
        router.get("feeds/{file}") { request, context in try await pages.expertFeed(request, context) }
        // A person's own page from their notice (signed, expiring): no sign-in either.
        router.get("p/{token}") { request, context in try await pages.personalPage(request, context) }
        router.post("p/{token}/rsvp") { request, context in try await pages.personalRSVP(request, context) }
        return router
    }

    /// The console bound to `host:port` (port 0: any free one). `onReady` gets the port it listens on.
    public static func application(
        host: String, port: Int, db: AppDatabase, clock: any WallClock, settings: Settings, logger: Logger,
        onReady: @escaping @Sendable (Int) async -> Void
    ) throws -> some ApplicationProtocol {
        let router = try router(db: db, clock: clock, settings: settings)
        let server: HTTPServerBuilder =
            try settings.tls.map { try .tls(tlsConfiguration: tlsConfiguration($0)) }
            ?? .http1()
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? port) }, logger: logger)
    }
}

extension WebConsole {
    /// The server's TLS configuration from PEM files.
    ///
    /// - Throws: `invalidInput` naming the key whose file cannot be read or is not PEM.
    static func tlsConfiguration(_ files: (certificate: String, key: String)) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(files.certificate) } catch {
            throw MediationError.invalidInput(
                "web.tls.certificate \(files.certificate) cannot be read as a PEM certificate: \(error)",
                hint: "give the certificate (chain) file in PEM, readable by the daemon's user")
        }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: files.key, format: .pem) } catch {
            throw MediationError.invalidInput(
                "web.tls.key \(files.key) cannot be read as a PEM private key: \(error)",
                hint: "give the unencrypted private key in PEM, readable by the daemon's user only")
        }
        guard !chain.isEmpty else {
            throw MediationError.invalidInput(
                "web.tls.certificate \(files.certificate) holds no certificate", hint: "give the PEM certificate file")
        }
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
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
        do { response = try await next(request, context) } catch let early as EarlyAnswer {
            response = early.response
        } catch { response = pages.errorPage(error, request) }
        // A printed document sets its own, narrower policy (inline style, nothing else); every page gets this one.
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
        }
        for (name, value) in [("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY")] {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
