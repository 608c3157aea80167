import Foundation
import Testing

/// The web console through the real daemon over real HTTP (curl), its account made with the real mediationctl
/// (issue 16, items 1, 3 and 4): redirects without a session, refused forms without their token, another office's
/// dispute as if it did not exist, the headers, the lock-out and the session's end on the daemon's clock.
@Suite(.serialized) struct ConsoleHTTPEndToEndTests {
    /// One answer as curl saw it.
    struct Reply: CustomStringConvertible {
        var status: Int
        /// Header names lower-cased; the last value of a repeated header.
        var headers: [String: String]
        var cookies: [String]
        var body: String
        var description: String { "\(status) \(headers) cookies \(cookies)\n\(body.prefix(600))" }
        var location: String? { headers["location"] }

        /// The value of the hidden form field `name`.
        func hidden(_ name: String) -> String? {
            guard let match = body.firstMatch(of: #/name="csrf" value="([^"]*)"/#), name == "csrf" else { return nil }
            return String(match.1)
        }
    }

    /// A browser's worth of state: its cookie jar, and the console's address.
    final class Browser: @unchecked Sendable {
        let base: String
        let jar: String
        var language: String?

        init(base: String, folder: URL) {
            self.base = base
            jar = folder.appendingPathComponent("cookies-\(UUID().uuidString)").path
        }

        func get(_ path: String) throws -> Reply { try curl(path, []) }

        func post(_ path: String, _ fields: [(String, String)]) throws -> Reply {
            try curl(path, ["-X", "POST"] + fields.flatMap { ["--data-urlencode", "\($0.0)=\($0.1)"] })
        }

        private func curl(_ path: String, _ extra: [String]) throws -> Reply {
            var args = ["-s", "-i", "--max-time", "20", "-c", jar, "-b", jar]
            if let language { args += ["-H", "Accept-Language: \(language)"] }
            let run = try runProgram("/usr/bin/curl", args + extra + [base + path])
            guard run.status == 0 else { throw HarnessError("curl \(path): \(run)") }
            let parts = run.stdout.components(separatedBy: "\r\n\r\n")
            let head = parts.first ?? ""
            var reply = Reply(
                status: 0, headers: [:], cookies: [], body: parts.dropFirst().joined(separator: "\r\n\r\n"))
            for (i, line) in head.components(separatedBy: "\r\n").enumerated() {
                if i == 0 {
                    reply.status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
                } else if let colon = line.firstIndex(of: ":") {
                    let name = line[..<colon].lowercased()
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    reply.headers[name] = value
                    if name == "set-cookie" { reply.cookies.append(value) }
                }
            }
            return reply
        }
    }

    /// A daemon serving the console on a free port of loopback, with two offices, one dispute in each, and a staff
    /// account of the first; returns the daemon, the console's address and the one-time password.
    static func console() throws -> (DaemonUnderTest, String, String) {
        let d = try DaemonUnderTest(extraYAML: "web:\n  listen: 127.0.0.1:0", movableClock: true)
        try d.start()
        var base: String?
        for _ in 0..<500 {
            if let m = d.log().firstMatch(of: #/http://127\.0\.0\.1:([0-9]+)/#), m.1 != "0" {
                base = "http://127.0.0.1:\(m.1)"
                break
            }
            usleep(20_000)
        }
        let address = try #require(base, "the log names the console's address:\n\(d.log())")
        for (id, name, prefix) in [("jinshan", "金山警务室", "JS"), ("xinhua", "新华警务室", "XH")] {
            #expect(try d.ctl("office", "add", id, "--name", name, "--prefix", prefix).status == 0)
            let opened = try d.ctl(
                "dispute", "open", "--office", id, "--title", "\(name)的噪音纠纷", "--category", "noise")
            #expect(opened.status == 0, "\(opened)")
        }
        let added = try d.ctl("user", "add", "li.na", "--role", "staff", "--office", "jinshan")
        let password = try #require(UserEndToEndTests.oneTimePassword(added.stdout), "\(added)")
        return (d, address, password)
    }

    func number(_ d: DaemonUnderTest, office: String) throws -> String {
        let list = try #require(try d.json("dispute", "list", "--office", office) as? [String: Any])
        let first = try #require((list["disputes"] as? [[String: Any]])?.first, "\(list)")
        return try #require(first["number"] as? String)
    }

    func audit(_ d: DaemonUnderTest) throws -> String { try d.ctl("audit", "list", "--limit", "200").stdout }

    func sqlite(_ d: DaemonUnderTest, _ sql: String) throws -> String {
        try runProgram("/usr/bin/sqlite3", [d.databasePath, sql]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every header of safety on every answer: pages, redirects and refusals alike.
    func expectSafetyHeaders(_ r: Reply, _ what: String) {
        let csp = r.headers["content-security-policy"] ?? ""
        #expect(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "\(what): \(r)")
        #expect(!csp.contains("unsafe-inline"), "\(what): \(csp)")
        #expect(r.headers["referrer-policy"] == "no-referrer", "\(what): \(r)")
    }

    @Test func signingInChangingThePasswordScopeAndSigningOut() throws {
        let (d, base, oneTime) = try Self.console()
        let folder = d.dir
        let ours = try number(d, office: "jinshan")
        let theirs = try number(d, office: "xinhua")
        let browser = Browser(base: base, folder: folder)

        // Without a session every page sends the reader to /login; a form POST there writes nothing.
        for path in ["/", "/disputes", "/disputes/\(ours)", "/password"] {
            let r = try browser.get(path)
            #expect(r.status == 303 && r.location == "/login", "\(path): \(r)")
            expectSafetyHeaders(r, path)
        }
        let auditBefore = try sqlite(d, "SELECT COUNT(*) FROM audit")
        let stray = try browser.post("/password", [("current", oneTime), ("new", "青松 river lamp 42")])
        #expect(stray.status == 303 && stray.location == "/login", "\(stray)")
        #expect(try sqlite(d, "SELECT must_change FROM console_user WHERE name = 'li.na'") == "1")

        // The login page: Chinese by default, English when the browser asks for it first.
        let login = try browser.get("/login")
        #expect(login.status == 200 && login.body.contains("登录") && login.body.contains("<html lang=\"zh-CN\""))
        expectSafetyHeaders(login, "/login")
        let csrf = try #require(login.hidden("csrf"), "\(login)")
        let english = Browser(base: base, folder: folder)
        english.language = "en-GB,en;q=0.9,zh;q=0.5"
        let englishLogin = try english.get("/login")
        #expect(englishLogin.body.contains("Sign in") && !englishLogin.body.contains("登录"), "\(englishLogin)")

        // A sign-in form without its token: 403, no sign-in and no audit row.
        let forged = try browser.post("/login", [("name", "li.na"), ("password", oneTime)])
        #expect(forged.status == 403 && forged.cookies.allSatisfy { !$0.hasPrefix("mc_session=") }, "\(forged)")
        expectSafetyHeaders(forged, "forged login")
        #expect(try sqlite(d, "SELECT COUNT(*) FROM audit") == auditBefore, "a refused form writes nothing")
        #expect(try sqlite(d, "SELECT COUNT(*) FROM console_session") == "0")

        // The one-time password signs in, straight to the password page.
        let signedIn = try browser.post("/login", [("csrf", csrf), ("name", "li.na"), ("password", oneTime)])
        #expect(signedIn.status == 303 && signedIn.location == "/password", "\(signedIn)")
        let cookie = try #require(signedIn.cookies.first { $0.hasPrefix("mc_session=") }, "\(signedIn)")
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(cookie)")
        #expect(!cookie.contains("Secure"), "plain HTTP on loopback: \(cookie)")
        // Only the token's hash is stored.
        let token = String(cookie.dropFirst("mc_session=".count).prefix { $0 != ";" })
        #expect(try sqlite(d, "SELECT COUNT(*) FROM console_session WHERE token_hash = '\(token)'") == "0")
        #expect(try sqlite(d, "SELECT COUNT(*) FROM console_session") == "1")
        // Until the password is changed, every page leads to the password page.
        let held = try browser.get("/")
        #expect(held.status == 303 && held.location == "/password", "\(held)")

        // The password form without its token: 403, the password unchanged.
        let page = try browser.get("/password")
        #expect(page.status == 200 && page.headers["cache-control"] == "no-store", "\(page)")
        let formToken = try #require(page.hidden("csrf"))
        let newPassword = "青松 river lamp 42"
        let noToken = try browser.post(
            "/password", [("current", oneTime), ("new", newPassword), ("repeat", newPassword)])
        #expect(noToken.status == 403, "\(noToken)")
        let wrongToken = try browser.post(
            "/password",
            [("csrf", formToken + "x"), ("current", oneTime), ("new", newPassword), ("repeat", newPassword)])
        #expect(wrongToken.status == 403, "\(wrongToken)")
        #expect(try sqlite(d, "SELECT must_change FROM console_user WHERE name = 'li.na'") == "1")
        // A short password is refused beside its field, in Chinese, and nothing changes.
        let short = try browser.post(
            "/password", [("csrf", formToken), ("current", oneTime), ("new", "short"), ("repeat", "short")])
        #expect(short.status == 422 && short.body.contains("class=\"error field\""), "\(short)")
        #expect(short.body.contains("10"), "\(short)")
        #expect(try sqlite(d, "SELECT must_change FROM console_user WHERE name = 'li.na'") == "1")
        let changed = try browser.post(
            "/password", [("csrf", formToken), ("current", oneTime), ("new", newPassword), ("repeat", newPassword)])
        #expect(changed.status == 303, "\(changed)")
        #expect(try sqlite(d, "SELECT must_change FROM console_user WHERE name = 'li.na'") == "0")

        // 工作台, not kept in any cache.
        let dashboard = try browser.get("/")
        #expect(dashboard.status == 200 && dashboard.body.contains("工作台"), "\(dashboard)")
        #expect(dashboard.headers["cache-control"] == "no-store")
        expectSafetyHeaders(dashboard, "/")
        #expect(!dashboard.body.contains("<script"), "no script on the page")

        // Office scope: the staff member's own office's dispute opens; the other office's is 404, exactly as a
        // dispute that does not exist.
        let own = try browser.get("/disputes/\(ours)")
        #expect(own.status == 200 && own.body.contains(ours), "\(own)")
        #expect(own.headers["cache-control"] == "no-store")
        let other = try browser.get("/disputes/\(theirs)")
        let missing = try browser.get("/disputes/JS-2026-9999")
        #expect(other.status == 404 && missing.status == 404, "\(other)\n\(missing)")
        #expect(!other.body.contains(theirs.suffix(4)) || !other.body.contains("新华"), "\(other)")
        #expect(
            other.body.replacingOccurrences(of: theirs, with: "X")
                == missing.body.replacingOccurrences(of: "JS-2026-9999", with: "X"),
            "the other office's dispute reads as one that does not exist")
        let list = try browser.get("/disputes")
        #expect(list.body.contains(ours) && !list.body.contains(theirs), "\(list)")

        // Signing out: without the token it is refused and the session lives on; with it, the session ends.
        let logoutToken = try #require(dashboard.hidden("csrf"))
        let forgedLogout = try browser.post("/logout", [])
        #expect(forgedLogout.status == 403, "\(forgedLogout)")
        #expect(try browser.get("/").status == 200)
        let out = try browser.post("/logout", [("csrf", logoutToken)])
        #expect(out.status == 303 && out.location == "/login", "\(out)")
        let after = try browser.get("/")
        #expect(after.status == 303 && after.location == "/login", "\(after)")

        let trail = try audit(d)
        for action in ["console.login", "console.passwd", "console.logout"] {
            #expect(trail.contains(action), "\(action) audited:\n\(trail)")
        }
        #expect(!trail.contains(oneTime) && !trail.contains(newPassword), "no password in the audit trail")
    }

    /// Five wrong passwords lock the account for 15 minutes, even against the right one; each is audited. A session
    /// ends after 30 minutes without a request, on the daemon's clock.
    @Test func lockOutAndIdleSessionsEndOnTheDaemonsClock() throws {
        let (d, base, oneTime) = try Self.console()
        let browser = Browser(base: base, folder: d.dir)
        func signIn(_ password: String) throws -> Reply {
            let csrf = try #require(try browser.get("/login").hidden("csrf"))
            return try browser.post("/login", [("csrf", csrf), ("name", "li.na"), ("password", password)])
        }
        for attempt in 1...5 {
            let wrong = try signIn("wrong password \(attempt)")
            #expect(wrong.status == 401 && wrong.location == nil, "\(attempt): \(wrong)")
            #expect(wrong.body.contains("class=\"error\""), "\(wrong)")
        }
        let refused = try signIn(oneTime)
        #expect(refused.status == 401 && refused.body.contains("锁定"), "the right password, locked: \(refused)")
        #expect(refused.cookies.allSatisfy { !$0.hasPrefix("mc_session=") })
        let listed = try d.ctl("user", "list")
        #expect(listed.stdout.contains("locked"), "\(listed)")
        let trail = try audit(d)
        #expect(trail.components(separatedBy: "console.login_failed").count - 1 == 6, "\(trail)")
        #expect(trail.contains("console.lockout"), "\(trail)")

        // 15 minutes later the right password signs in.
        try d.setClock(to: d.now.addingTimeInterval(15 * 60 + 5))
        let later = try signIn(oneTime)
        #expect(later.status == 303 && later.location == "/password", "\(later)")
        #expect(try browser.get("/password").status == 200)
        // 29 minutes idle: still signed in; 31 minutes idle after that request: the login page.
        try d.setClock(to: d.now.addingTimeInterval(29 * 60))
        #expect(try browser.get("/password").status == 200)
        try d.setClock(to: d.now.addingTimeInterval(31 * 60))
        let expired = try browser.get("/password")
        #expect(expired.status == 303 && expired.location == "/login", "\(expired)")
    }
}
