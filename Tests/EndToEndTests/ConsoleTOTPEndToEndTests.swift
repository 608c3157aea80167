import Foundation
import Testing

/// Two-step sign-in (issue 16, item 2): an admin required by `web.require_totp_for_admins` to set up an
/// authenticator before any page, the code checked against an independent RFC 6238 implementation (Python's hmac,
/// as an authenticator app computes it), a code accepted once, wrong codes counted toward the lock-out, and
/// `user passwd` removing a lost phone's authenticator; through the real daemon over HTTP on its moved clock. Also
/// the address throttle: many failed sign-ins from one machine, whatever the names, make it wait.
@Suite(.serialized) struct ConsoleTOTPEndToEndTests {
    /// The authenticator's code for the key (as the page shows it, base32 in groups) at `instant`: RFC 6238 with
    /// HMAC-SHA1, 6 digits, 30-second steps, computed by Python's standard library.
    static func code(key: String, at instant: Date) throws -> String {
        let script = """
            import base64, hashlib, hmac, struct, sys
            key = base64.b32decode(sys.argv[1].replace(" ", "") + "=" * (-len(sys.argv[1].replace(" ", "")) % 8))
            mac = hmac.new(key, struct.pack(">Q", int(float(sys.argv[2])) // 30), hashlib.sha1).digest()
            o = mac[-1] & 15
            print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
            """
        let run = try runProgram("/usr/bin/python3", ["-c", script, key, String(instant.timeIntervalSince1970)])
        #expect(run.status == 0, "\(run)")
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func console(requireTOTP: Bool) throws -> (DaemonUnderTest, String) {
        let d = try DaemonUnderTest(
            extraYAML: "web:\n  listen: 127.0.0.1:0\n  require_totp_for_admins: \(requireTOTP)", movableClock: true)
        try d.start()
        return (d, try address(d))
    }

    /// The console's address as the daemon's log names it (port 0: a new one at each start, each with a new log).
    static func address(_ d: DaemonUnderTest) throws -> String {
        for _ in 0..<500 {
            let named = d.log().matches(of: #/http://127\.0\.0\.1:([1-9][0-9]*)/#)
            if let last = named.last { return "http://127.0.0.1:\(last.1)" }
            usleep(20_000)
        }
        throw HarnessError("the log names no console address:\n\(d.log())")
    }

    func signIn(_ browser: ConsoleHTTPEndToEndTests.Browser, _ name: String, _ password: String, code: String = "")
        throws -> ConsoleHTTPEndToEndTests.Reply
    {
        let csrf = try #require(try browser.get("/login").hidden("csrf"))
        return try browser.post("/login", [("csrf", csrf), ("name", name), ("password", password), ("code", code)])
    }

    @Test func anAdminSetsUpAnAuthenticatorAndThenSignsInWithItsCodeOnce() throws {
        let (d, first) = try Self.console(requireTOTP: true)
        var base = first
        // The admin's first sign-in: own password first, then the authenticator before any other page.
        let admin = try ConsoleWeekEndToEndTests.account(d, base: base, name: "wang.admin", role: "admin")
        let home = try admin.get("/")
        #expect(home.status == 303 && home.location == "/totp", "\(home)")
        #expect(try admin.get("/admin/users").location == "/totp")
        let page = try admin.get("/totp")
        #expect(page.status == 200 && page.headers["cache-control"] == "no-store", "\(page)")
        #expect(page.body.contains("id=\"totp-required\"") && page.body.contains("两步验证"), "\(page)")
        let key = try #require(
            page.body.firstMatch(of: #/id="totp-key">([A-Z2-7 ]+)</#).map { String($0.1) }, "\(page.body)")
        let url = try #require(page.body.firstMatch(of: #/id="totp-url">(otpauth://totp/[^<]+)</#).map { String($0.1) })
        #expect(url.contains("secret=\(key.replacingOccurrences(of: " ", with: ""))"), "\(url)")
        #expect(url.contains("issuer="), "\(url)")
        let csrf = try #require(page.hidden("csrf"))
        let secret = try #require(page.hidden("secret"))

        // A wrong code is said beside its field, in Chinese, the same key kept; nothing turned on.
        let wrong = try admin.post("/totp", [("csrf", csrf), ("secret", secret), ("code", "000000")])
        #expect(wrong.status == 422 && wrong.body.contains("id=\"code-error\">验证码不对"), "\(wrong)")
        #expect(wrong.body.contains(key), "the same key, to try again")
        #expect(try admin.get("/").location == "/totp")
        // Without the form's token: refused.
        #expect(try admin.post("/totp", [("secret", secret), ("code", "123456")]).status == 403)

        // The app's code for the daemon's now turns it on.
        let on = try admin.post(
            "/totp", [("csrf", csrf), ("secret", secret), ("code", try Self.code(key: key, at: d.now))])
        #expect(on.status == 303 && on.location == "/?totp=1", "\(on)")
        #expect(try admin.get("/").status == 200)
        #expect(try admin.get("/totp").body.contains("id=\"totp-on\""))
        #expect(try d.ctl("audit", "list", "--limit", "50").stdout.contains("console.totp"))
        // The CLI shows who signs in with a code (and the API, as `totp`).
        let listed = try d.ctl("user", "list")
        #expect(listed.stdout.contains("TWO-STEP"), "\(listed)")
        let line = listed.stdout.split(separator: "\n").first { $0.hasPrefix("wang.admin") } ?? ""
        #expect(line.hasSuffix("on"), "\(listed)")
        let users = try #require(try d.json("user", "list") as? [String: Any])
        let me = (users["users"] as? [[String: Any]])?.first { $0["name"] as? String == "wang.admin" }
        #expect(me?["totp"] as? Bool == true, "\(users)")

        // Signing in again: the password alone is not enough (and is not counted as a failure) …
        let other = ConsoleHTTPEndToEndTests.Browser(base: base, folder: d.dir)
        try d.setClock(to: d.now.addingTimeInterval(60))
        let password = "远山 quiet harbour 77"
        let noCode = try signIn(other, "wang.admin", password)
        #expect(noCode.status == 401 && noCode.body.contains("动态验证码"), "\(noCode)")
        // … a wrong code is refused; the right one signs in; the same code a second time is refused.
        #expect(try signIn(other, "wang.admin", password, code: "999999").status == 401)
        let code = try Self.code(key: key, at: d.now)
        let signed = try signIn(other, "wang.admin", password, code: code)
        #expect(signed.status == 303 && signed.location == "/", "\(signed)")
        let again = ConsoleHTTPEndToEndTests.Browser(base: base, folder: d.dir)
        let replay = try signIn(again, "wang.admin", password, code: code)
        #expect(replay.status == 401 && replay.body.contains("已用过"), "a code signs in once: \(replay)")

        // Still so after a restart.
        #expect(d.stop() == 0)
        try d.start()
        base = try Self.address(d)
        try d.setClock(to: d.now.addingTimeInterval(60))
        #expect(
            try signIn(ConsoleHTTPEndToEndTests.Browser(base: base, folder: d.dir), "wang.admin", password).status
                == 401)

        // Wrong codes count toward the lock-out like wrong passwords: five lock the account.
        let guesser = ConsoleHTTPEndToEndTests.Browser(base: base, folder: d.dir)
        for attempt in 1...5 { _ = try signIn(guesser, "wang.admin", password, code: String(format: "%06d", attempt)) }
        let locked = try signIn(guesser, "wang.admin", password, code: try Self.code(key: key, at: d.now))
        #expect(locked.status == 401 && locked.body.contains("锁定"), "\(locked)")

        // A lost phone: another admin gives a new one-time password, which removes the authenticator.
        let reset = try d.ctl("user", "passwd", "wang.admin")
        #expect(reset.status == 0, "\(reset)")
        let oneTime = try #require(UserEndToEndTests.oneTimePassword(reset.stdout), "\(reset)")
        let fresh = ConsoleHTTPEndToEndTests.Browser(base: base, folder: d.dir)
        let back = try signIn(fresh, "wang.admin", oneTime)
        #expect(back.status == 303 && back.location == "/password", "\(back)")
        #expect(try d.ctl("audit", "list", "--limit", "80").stdout.contains("removed its authenticator"))
        let after = try #require(try d.json("user", "list") as? [String: Any])
        let cleared = (after["users"] as? [[String: Any]])?.first { $0["name"] as? String == "wang.admin" }
        #expect(cleared?["totp"] as? Bool == false, "\(after)")
        #expect(d.stop() == 0)
    }

    @Test func aStaffAccountMayTurnItOnAndIsNotAskedToWhenNotRequired() throws {
        let (d, base) = try Self.console(requireTOTP: false)
        #expect(try d.ctl("office", "add", "jinshan", "--name", "金山警务室").status == 0)
        let admin = try ConsoleWeekEndToEndTests.account(d, base: base, name: "wang.admin", role: "admin")
        #expect(try admin.get("/").status == 200, "not required: the dashboard at once")
        let clerk = try ConsoleWeekEndToEndTests.account(
            d, base: base, name: "li.na", role: "staff", offices: ["jinshan"])
        #expect(try clerk.get("/password").body.contains("href=\"/totp\""))
        let page = try clerk.get("/totp")
        let key = try #require(
            page.body.firstMatch(of: #/id="totp-key">([A-Z2-7 ]+)</#).map { String($0.1) }, "\(page.body)")
        let on = try clerk.post(
            "/totp",
            [
                ("csrf", try #require(page.hidden("csrf"))), ("secret", try #require(page.hidden("secret"))),
                ("code", try Self.code(key: key, at: d.now)),
            ])
        #expect(on.status == 303, "\(on)")
        try d.setClock(to: d.now.addingTimeInterval(60))
        let browser = ConsoleHTTPEndToEndTests.Browser(base: base, folder: d.dir)
        #expect(try signIn(browser, "li.na", "远山 quiet harbour 77").status == 401)
        let signed = try signIn(browser, "li.na", "远山 quiet harbour 77", code: try Self.code(key: key, at: d.now))
        #expect(signed.status == 303 && signed.location == "/", "\(signed)")
        #expect(d.stop() == 0)
    }

    @Test func manyFailedSignInsFromOneAddressMakeItWaitWhateverTheNames() throws {
        let (d, base) = try Self.console(requireTOTP: false)
        let admin = try ConsoleWeekEndToEndTests.account(d, base: base, name: "wang.admin", role: "admin")
        _ = admin
        let browser = ConsoleHTTPEndToEndTests.Browser(base: base, folder: d.dir)
        // Twenty names, one wrong password each: no account is locked, but the address is.
        for n in 1...20 {
            let wrong = try signIn(browser, "guess\(n)", "not the password")
            #expect(wrong.status == 401, "\(n): \(wrong)")
        }
        let waiting = try signIn(browser, "wang.admin", "远山 quiet harbour 77")
        #expect(waiting.status == 429 && waiting.body.contains("登录失败次数过多"), "\(waiting)")
        #expect(try d.ctl("audit", "list", "--limit", "50").stdout.contains("console.login_throttled"))
        // A quarter of an hour later it may try again.
        try d.setClock(to: d.now.addingTimeInterval(15 * 60 + 5))
        let later = try signIn(browser, "wang.admin", "远山 quiet harbour 77")
        #expect(later.status == 303 && later.location == "/", "\(later)")
        #expect(d.stop() == 0)
    }
}
