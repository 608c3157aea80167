import Foundation
import Testing

/// The web console in a real browser (issue 16): headless Chromium, driven through chromedriver by selenium
/// (Tests/peers/console_browser.py), against the real daemon, with the account made by the real mediationctl. A clerk
/// is sent to the login page, signs in with the one-time password, changes it, sees the dashboard, the disputes and
/// a case file, switches to English and back, and signs out; the browser's console has no error. The pictures of
/// each page are kept in .build/test-output/console-browser/ (01-login.png … 18-signed-out.png, and review.pdf) for a person to look
/// at: the Chinese must render in the Noto CJK fonts `make test` installs.
@Suite(.serialized) struct ConsoleBrowserEndToEndTests {
    static let output = Repo.root.appendingPathComponent(".build/test-output/console-browser")

    @Test func aClerkSignsInChangesThePasswordSeesTheDashboardAndSignsOut() throws {
        let d = try DaemonUnderTest(extraYAML: "web:\n  listen: 127.0.0.1:0", movableClock: true)
        try d.start()
        var base: String?
        for _ in 0..<500 {
            if let m = d.log().firstMatch(of: #/address=http://127\.0\.0\.1:([0-9]+)/#), m.1 != "0" {
                base = "http://127.0.0.1:\(m.1)"
                break
            }
            usleep(20_000)
        }
        let url = try #require(base, "the log names the console's address:\n\(d.log())")
        // The sample offices and experts, a dispute of jinshan with a session booked, and the daemon's clock two hours
        // before it: the dashboard has a session today and this week.
        let sessions = SessionEndToEndTests()
        let number = try #require(try sessions.setUp(d, disputes: 1).first)
        _ = try sessions.find(d, number)
        let booked = try d.ctl("session", "book", number, "--option", "1")
        #expect(booked.status == 0, "\(booked)")
        try d.moveClock(toSession: 1, plus: -2 * 3600)
        let party = try d.ctl("party", "add", number, "--name", "李明", "--side", "申请人", "--mobile", "13700000001")
        #expect(party.status == 0, "\(party)")
        let added = try d.ctl("user", "add", "wang.li", "--role", "staff", "--office", "jinshan")
        #expect(added.status == 0, "\(added)")
        let oneTime = try #require(UserEndToEndTests.oneTimePassword(added.stdout), "\(added)")

        try? FileManager.default.removeItem(at: Self.output)
        let run = try runProgram(
            Repo.root.appendingPathComponent(".venv/bin/python").path,
            [
                Repo.root.appendingPathComponent("Tests/peers/console_browser.py").path, "--url", url, "--user",
                "wang.li", "--password", oneTime, "--new", "青松 river lamp 42", "--out", Self.output.path,
                "--dispute", number, "--pdf", Self.output.appendingPathComponent("review.pdf").path,
            ])
        #expect(run.status == 0, "\(run)\n\(d.log().suffix(3000))")
        let result = try #require(
            try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run)")
        let shots = try #require(result["screenshots"] as? [String])
        #expect(
            shots == [
                "01-login.png", "02-change-password.png", "03-dashboard.png", "04-disputes.png", "05-dispute.png",
                "06-intake-refused.png", "07-registered.png", "08-find.png", "09-session.png", "09-substitutes.png",
                "09-rescheduled.png", "10-experts.png", "11-expert.png", "11-roster-refused.png", "12-week.png",
                "13-review.png", "13-outcomes.png", "14-english.png", "15-intake-en.png", "16-find-en.png",
                "17-session-en.png", "19-totp.png", "18-signed-out.png",
            ])
        for shot in shots {
            let data = try Data(contentsOf: Self.output.appendingPathComponent(shot))
            #expect(data.count > 5_000 && data.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(shot) is a PNG")
        }
        // The review as the browser prints it: A4, the Chinese figures as text, no navigation bar.
        let pdf = Self.output.appendingPathComponent("review.pdf").path
        let info = try runProgram("/usr/bin/pdfinfo", [pdf])
        #expect(info.stdout.contains("(A4)"), "\(info)")
        let text = try runProgram("/usr/bin/pdftotext", ["-layout", pdf, "-"])
        #expect(text.stdout.contains("每周研判") && text.stdout.contains("在办纠纷"), "\(text)")
        #expect(!text.stdout.contains("退出") && !text.stdout.contains("下载 CSV"), "no console chrome on paper: \(text)")
        // What the browser did is in the audit trail, under the account's name.
        let audit = try d.ctl("audit", "list", "--limit", "100").stdout
        for action in ["console.login", "console.passwd", "console.logout"] {
            #expect(audit.contains(action), "\(audit)")
        }
        let user = try d.ctl("user", "list").stdout
        #expect(user.contains("wang.li") && !user.contains("one-time password"), "\(user)")
    }
}

/// `web.listen`: off for a configuration file that does not name it, refused with the key's name when it is not a
/// host and port, and read from MEDIATIOND_WEB_LISTEN like every other key.
@Suite struct WebListenEndToEndTests {
    @Test func theConsoleIsOffUnlessConfiguredAndABadAddressIsRefused() throws {
        let off = try DaemonUnderTest()
        try off.start()
        #expect(try off.ctl("health").status == 0)
        #expect(!off.log().contains("web console"), "\(off.log())")
        off.stop()

        let bad = try runProgram(
            "/usr/bin/timeout", ["20", Repo.daemon, "--config", off.config],
            environment: ProcessInfo.processInfo.environment.merging(["MEDIATIOND_WEB_LISTEN": "8080"]) { _, b in b })
        #expect(bad.status == 2, "\(bad)")
        #expect(bad.stderr.contains("web.listen '8080' is not a host and port"), "\(bad)")
        #expect(bad.stderr.contains("127.0.0.1:8080"), "\(bad)")

        let on = try DaemonUnderTest()
        try on.start(environment: ["MEDIATIOND_WEB_LISTEN": "127.0.0.1:0"])
        #expect(on.log().contains("web console"), "\(on.log())")
    }

    /// With web.tls.* the console speaks HTTPS (a certificate made here with openssl) and marks its cookie Secure;
    /// one of the two keys alone, or a file that is not PEM, stops the start naming the key.
    @Test func theConsoleOverTLSMarksItsCookieSecure() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cert = folder.appendingPathComponent("console.pem").path
        let key = folder.appendingPathComponent("console.key").path
        let made = try runProgram(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout",
                key, "-out", cert,
            ])
        #expect(made.status == 0, "\(made)")
        let d = try DaemonUnderTest(
            extraYAML: "web:\n  listen: 127.0.0.1:0\n  tls:\n    certificate: \(cert)\n    key: \(key)")
        try d.start()
        var base: String?
        for _ in 0..<500 {
            if let m = d.log().firstMatch(of: #/address=https://127\.0\.0\.1:([0-9]+)/#), m.1 != "0" {
                base = "https://127.0.0.1:\(m.1)"
                break
            }
            usleep(20_000)
        }
        let url = try #require(base, "the log names the console's https address:\n\(d.log())")
        let page = try runProgram("/usr/bin/curl", ["-s", "-i", "--max-time", "20", "--cacert", cert, url + "/login"])
        #expect(page.status == 0 && page.stdout.hasPrefix("HTTP/1.1 200"), "\(page)")
        let cookie = page.stdout.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("set-cookie:") }
        #expect(cookie?.contains("; Secure") == true && cookie?.contains("HttpOnly") == true, "\(page)")
        let plain = try runProgram(
            "/usr/bin/curl",
            ["-s", "-o", "/dev/null", "--max-time", "5", url.replacingOccurrences(of: "https", with: "http")])
        #expect(plain.status != 0, "plain HTTP is not answered on the TLS port")
        d.stop()

        let lone = try DaemonUnderTest(extraYAML: "web:\n  listen: 127.0.0.1:0\n  tls:\n    certificate: \(cert)")
        let refused = try runProgram("/usr/bin/timeout", ["20", Repo.daemon, "--config", lone.config])
        #expect(
            refused.status == 2 && refused.stderr.contains("web.tls.certificate and web.tls.key go together"),
            "\(refused)")
        let notPEM = try DaemonUnderTest(
            extraYAML: "web:\n  listen: 127.0.0.1:0\n  tls:\n    certificate: \(lone.config)\n    key: \(key)")
        let bad = try runProgram("/usr/bin/timeout", ["20", Repo.daemon, "--config", notPEM.config])
        #expect(bad.status == 2 && bad.stderr.contains("web.tls.certificate"), "\(bad)")
    }
}
