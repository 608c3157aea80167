import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MediationCore
import MediationStore
import NIOCore
import Testing

@testable import MediationWeb

/// The console in process, on an in-memory store and a clock the tests move: sign-in, anti-forgery tokens,
/// lock-outs, session expiry, office scope and the headers of every answer.
@Suite struct WebConsoleTests {
    static let t0 = Date(timeIntervalSince1970: 1_796_605_200)  // 2026-12-07 09:00 in Shanghai, a Monday

    /// Two offices with a dispute each, and a staff account of jinshan with its one-time password.
    final class World: Sendable {
        let clock = FixedWallClock(WebConsoleTests.t0)
        let db: AppDatabase
        let password: String
        let jinshan: String
        let fengxian: String

        init() async throws {
            db = try AppDatabase.inMemory(clock: clock)
            let actor = Actor(uid: 1000, user: "root", isAdmin: true)
            let setup = AuditActor(uid: 0, user: "root", role: "admin")
            (password, jinshan, fengxian) = try await AuditActor.$current.withValue(setup) { [db] in
                _ = try await db.createOffice(Office(id: "jinshan", name: "金山警务室", disputePrefix: "JS"))
                _ = try await db.createOffice(Office(id: "fengxian", name: "奉贤警务室", disputePrefix: "FX"))
                let a = try await db.openDispute(
                    Dispute(officeId: "jinshan", title: "邻里噪音", category: "noise"),
                    parties: [Party(name: "李明", side: .applicant, mobile: "13700000001")],
                    categories: Dispute.defaultCategories, actor: actor)
                let b = try await db.openDispute(
                    Dispute(officeId: "fengxian", title: "宠物扰民", category: "pet"),
                    categories: Dispute.defaultCategories, actor: actor)
                let issued = try await db.createAccount(name: "wang.li", role: .staff, offices: ["jinshan"])
                return (issued.oneTimePassword, a.dispute.number, b.dispute.number)
            }
        }

        func app() throws -> some ApplicationProtocol {
            Application(router: try WebConsole.router(db: db, clock: clock))
        }

        func audit(_ action: String) async throws -> [AuditEntry] {
            try await db.auditEntries(AuditFilter(limit: 1000)).filter { $0.action == action }
        }
    }

    /// A browser's cookie jar and the last page's form token.
    struct Browser {
        var cookies: [String: String] = [:]

        var cookieHeader: HTTPFields {
            var headers = HTTPFields()
            if !cookies.isEmpty {
                headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")
            }
            return headers
        }

        mutating func keep(_ response: TestResponse) {
            for line in response.headers[values: .setCookie] {
                let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                let name = String(pair[0])
                let value = pair.count > 1 ? String(pair[1]) : ""
                if value.isEmpty || line.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
            }
        }

        mutating func get(_ client: some TestClientProtocol, _ uri: String) async throws -> TestResponse {
            let response = try await client.execute(uri: uri, method: .get, headers: cookieHeader)
            keep(response)
            return response
        }

        mutating func post(_ client: some TestClientProtocol, _ uri: String, _ fields: [String: String]) async throws
            -> TestResponse
        {
            var headers = cookieHeader
            headers[.contentType] = "application/x-www-form-urlencoded"
            let body = fields.map { key, value in
                let allowed = CharacterSet.alphanumerics
                return (key.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "="
                    + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
            }.joined(separator: "&")
            let response = try await client.execute(
                uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
            keep(response)
            return response
        }

        /// Opens `page`, fills its form with `fields` and its own token, and sends it to `action`.
        mutating func submit(
            _ client: some TestClientProtocol, page: String, action: String, _ fields: [String: String]
        ) async throws -> TestResponse {
            let form = try await get(client, page)
            var fields = fields
            let token: String? = Self.token(String(buffer: form.body))
            #expect(token != nil, "a form token on \(page)")
            fields["csrf"] = token ?? ""
            return try await post(client, action, fields)
        }

        static func token(_ html: String) -> String? {
            guard let start = html.range(of: "name=\"csrf\" value=\"") else { return nil }
            let rest = html[start.upperBound...]
            return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
        }

        /// Signs in and sets the new password `new` when the one-time one is asked to change.
        mutating func signIn(_ client: some TestClientProtocol, _ name: String, _ password: String, new: String? = nil)
            async throws
        {
            let login = try await submit(
                client, page: "/login", action: "/login", ["name": name, "password": password])
            #expect(login.status == .seeOther, "\(String(buffer: login.body))")
            if let new {
                #expect(login.headers[.location] == "/password")
                let changed = try await submit(
                    client, page: "/password", action: "/password", ["current": password, "new": new, "repeat": new])
                #expect(changed.status == .seeOther, "\(String(buffer: changed.body))")
            }
        }
    }

    static let newPassword = "青松 river lamp 42"

    @Test func aPageWithoutASessionSendsToTheLoginPageAndEveryAnswerHasTheHeaders() async throws {
        let world = try await World()
        try await world.app().test(.router) { client in
            var browser = Browser()
            for page in ["/", "/disputes", "/disputes/\(world.jinshan)", "/password"] {
                let r = try await browser.get(client, page)
                #expect(r.status == .seeOther, "\(page)")
                #expect(r.headers[.location] == "/login", "\(page)")
            }
            let login = try await browser.get(client, "/login")
            #expect(login.status == .ok)
            let html = String(buffer: login.body)
            #expect(html.contains("<html lang=\"zh-CN\">") && html.contains("用户名") && html.contains("调解工作台"))
            #expect(!html.contains("<script"))
            for r in [login, try await browser.get(client, "/"), try await browser.get(client, "/nowhere")] {
                #expect(
                    r.headers[.contentSecurityPolicy]
                        == "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
                #expect(r.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(r.headers[.cacheControl] == "no-store")
            }
            let css = try await browser.get(client, "/static/console.css")
            #expect(css.status == .ok && css.headers[.contentType] == "text/css; charset=utf-8")
            // English by Accept-Language, or by the switch (a cookie), and the switch goes back only to this site.
            var english = HTTPFields()
            english[.acceptLanguage] = "en-GB,en;q=0.9"
            let en = try await client.execute(uri: "/login", method: .get, headers: english)
            #expect(String(buffer: en.body).contains("Sign in"))
            let away = try await browser.get(client, "/lang/en?back=//evil.example/")
            #expect(away.headers[.location] == "/")
            #expect(String(buffer: try await browser.get(client, "/login").body).contains("User name"))
        }
    }

    @Test func theOneTimePasswordMustBeChangedAndTheCookieIsStrict() async throws {
        let world = try await World()
        try await world.app().test(.router) { client in
            var browser = Browser()
            let login = try await browser.submit(
                client, page: "/login", action: "/login", ["name": "wang.li", "password": world.password])
            #expect(login.status == .seeOther)
            #expect(login.headers[.location] == "/password")
            let cookie = try #require(login.headers[values: .setCookie].first { $0.hasPrefix("mc_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
            #expect(!cookie.contains("Secure"), "plain HTTP on loopback")
            // Every page waits for the new password.
            #expect(try await browser.get(client, "/").headers[.location] == "/password")
            // Refusals are shown beside the field, in Chinese, and change nothing.
            let short = try await browser.submit(
                client, page: "/password", action: "/password",
                ["current": world.password, "new": "short", "repeat": "short"])
            #expect(short.status == .unprocessableContent)
            #expect(String(buffer: short.body).contains("新密码至少需要 10 个字符"))
            let wrong = try await browser.submit(
                client, page: "/password", action: "/password",
                ["current": "not-it-at-all", "new": Self.newPassword, "repeat": Self.newPassword])
            #expect(String(buffer: wrong.body).contains("当前密码不正确"))
            #expect(try await world.audit("console.passwd").isEmpty)
            let changed = try await browser.submit(
                client, page: "/password", action: "/password",
                ["current": world.password, "new": Self.newPassword, "repeat": Self.newPassword])
            #expect(changed.headers[.location] == "/?changed=1")
            let dashboard = try await browser.get(client, "/?changed=1")
            #expect(dashboard.status == .ok)
            let html = String(buffer: dashboard.body)
            #expect(html.contains("金山警务室") && html.contains("今日调解") && html.contains("密码已修改"), "\(html)")
            #expect(!html.contains("奉贤警务室"), "another office's board")
            #expect(dashboard.headers[.cacheControl] == "no-store")
            #expect(try await world.audit("console.passwd").count == 1)
            #expect(try await world.db.account(named: "wang.li").mustChangePassword == false)
        }
    }

    @Test func aFormWithoutItsTokenIsRefused403AndWritesNothing() async throws {
        let world = try await World()
        try await world.app().test(.router) { client in
            var browser = Browser()
            // The login form: no token, or a token that is not the cookie's.
            _ = try await browser.get(client, "/login")
            let bare = try await browser.post(client, "/login", ["name": "wang.li", "password": world.password])
            #expect(bare.status == .forbidden)
            #expect(String(buffer: bare.body).contains("未做任何修改"))
            let forged = try await browser.post(
                client, "/login", ["name": "wang.li", "password": world.password, "csrf": "0123abcd"])
            #expect(forged.status == .forbidden)
            #expect(try await world.audit("console.login").isEmpty)
            #expect(try await world.audit("console.login_failed").isEmpty)

            try await browser.signIn(client, "wang.li", world.password)
            // Changing the password without the session's token.
            let noToken = try await browser.post(
                client, "/password", ["current": world.password, "new": Self.newPassword, "repeat": Self.newPassword])
            #expect(noToken.status == .forbidden)
            #expect(try await world.audit("console.passwd").isEmpty)
            #expect(try await world.db.account(named: "wang.li").mustChangePassword)
            // Signing out without it keeps the session.
            let logout = try await browser.post(client, "/logout", [:])
            #expect(logout.status == .forbidden)
            #expect(try await world.audit("console.logout").isEmpty)
            #expect(try await browser.get(client, "/password").status == .ok)
            // With it, the session ends, audited.
            let out = try await browser.submit(client, page: "/password", action: "/logout", [:])
            #expect(out.headers[.location] == "/login")
            #expect(try await world.audit("console.logout").count == 1)
            #expect(try await browser.get(client, "/password").headers[.location] == "/login")
        }
    }

    @Test func fiveWrongPasswordsLockTheAccountForFifteenMinutesAudited() async throws {
        let world = try await World()
        try await world.app().test(.router) { client in
            var browser = Browser()
            for _ in 1...4 {
                let r = try await browser.submit(
                    client, page: "/login", action: "/login", ["name": "wang.li", "password": "wrong-password"])
                #expect(r.status == .unauthorized)
                #expect(String(buffer: r.body).contains("用户名或密码错误"))
            }
            let fifth = try await browser.submit(
                client, page: "/login", action: "/login", ["name": "wang.li", "password": "wrong-password"])
            #expect(String(buffer: fifth.body).contains("账号已锁定"))
            // The sixth, with the right password, is refused too.
            let sixth = try await browser.submit(
                client, page: "/login", action: "/login", ["name": "wang.li", "password": world.password])
            #expect(sixth.status == .unauthorized)
            #expect(String(buffer: sixth.body).contains("账号已锁定"))
            #expect(browser.cookies["mc_session"] == nil)
            #expect(try await world.audit("console.lockout").count == 1)
            #expect(try await world.audit("console.login_failed").count == 6)
            #expect(try await world.audit("console.login").isEmpty)
            // An unknown name reads as a wrong password, and is audited too.
            let unknown = try await browser.submit(
                client, page: "/login", action: "/login", ["name": "nobody", "password": "whatever-it-is"])
            #expect(String(buffer: unknown.body).contains("用户名或密码错误"))
            #expect(try await world.audit("console.login_failed").count == 7)
            // Fifteen minutes later the right password works.
            world.clock.advance(by: 15 * 60)
            try await browser.signIn(client, "wang.li", world.password)
            #expect(try await world.audit("console.login").count == 1)
        }
    }

    @Test func aSessionEndsAfterThirtyIdleMinutesAndAfterTwelveHours() async throws {
        let world = try await World()
        try await world.app().test(.router) { client in
            var browser = Browser()
            try await browser.signIn(client, "wang.li", world.password, new: Self.newPassword)
            world.clock.advance(by: 29 * 60)
            #expect(try await browser.get(client, "/").status == .ok)
            world.clock.advance(by: 30 * 60)
            #expect(try await browser.get(client, "/").headers[.location] == "/login")

            try await browser.signIn(client, "wang.li", Self.newPassword)
            for _ in 0..<35 {
                world.clock.advance(by: 20 * 60)
                #expect(try await browser.get(client, "/").status == .ok)
            }
            world.clock.advance(by: 20 * 60)  // 12 h since sign-in, used 20 minutes ago
            #expect(try await browser.get(client, "/").headers[.location] == "/login")
        }
    }

    @Test func aStaffUserSeesOnlyTheirOfficesDisputes() async throws {
        let world = try await World()
        try await world.app().test(.router) { client in
            var browser = Browser()
            try await browser.signIn(client, "wang.li", world.password, new: Self.newPassword)
            let own = try await browser.get(client, "/disputes/\(world.jinshan)")
            #expect(own.status == .ok)
            let html = String(buffer: own.body)
            #expect(html.contains("邻里噪音") && html.contains("<dd>噪音</dd>") && html.contains("待调解"), "\(html)")
            #expect(html.contains("137****0001") && !html.contains("13700000001"), "the mobile is masked")
            #expect(own.headers[.cacheControl] == "no-store")
            let other = try await browser.get(client, "/disputes/\(world.fengxian)")
            #expect(other.status == .notFound)
            let missing = try await browser.get(client, "/disputes/FX-2099-0001")
            #expect(missing.status == .notFound)
            #expect(
                String(buffer: other.body).replacingOccurrences(of: world.fengxian, with: "X")
                    == String(buffer: missing.body).replacingOccurrences(of: "FX-2099-0001", with: "X"),
                "as if it did not exist")
            let list = String(buffer: try await browser.get(client, "/disputes").body)
            #expect(list.contains(world.jinshan) && !list.contains(world.fengxian))
        }
        // An admin sees both.
        let issued = try await AuditActor.$current.withValue(AuditActor(uid: 0, user: "root", role: "admin")) {
            try await world.db.createAccount(name: "zhao.admin", role: .admin, offices: [])
        }
        try await world.app().test(.router) { client in
            var browser = Browser()
            try await browser.signIn(client, "zhao.admin", issued.oneTimePassword, new: Self.newPassword)
            #expect(try await browser.get(client, "/disputes/\(world.fengxian)").status == .ok)
            let users = try await browser.get(client, "/admin/users")
            #expect(users.status == .ok)
            let html = String(buffer: users.body)
            #expect(html.contains("wang.li") && html.contains("工作人员") && html.contains("金山警务室"), "\(html)")
            #expect(html.contains("href=\"/admin/users\""), "the admin sees the 管理 link")
        }
    }

    @Test func aStaffUserOnAnAdminPageIs403() async throws {
        let world = try await World()
        try await world.app().test(.router) { client in
            var browser = Browser()
            try await browser.signIn(client, "wang.li", world.password, new: Self.newPassword)
            let users = try await browser.get(client, "/admin/users")
            #expect(users.status == .forbidden)
            #expect(String(buffer: users.body).contains("您的角色无权打开此页面"))
            #expect(!String(buffer: try await browser.get(client, "/").body).contains("/admin/users"))
            var none = Browser()
            #expect(try await none.get(client, "/admin/users").headers[.location] == "/login")
        }
    }
}
