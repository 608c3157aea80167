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
            guard let start = body.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(body[start.upperBound...].prefix { $0 != "\"" })
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

    /// One clerk's morning through the forms (issue 16, item 5): a dispute registered with two parties, a refused form
    /// that keeps what was typed and writes nothing, a viewer who may not post it, then times found with an expert
    /// excluded and another pinned (the API's search, the store's `expertIDs`), one booked, and the session on the
    /// case file and its own page.
    @Test func aClerkRegistersFindsWithPinnedAndExcludedExpertsAndBooks() throws {
        let (d, browser, _) = try ConsoleBookingEndToEndTests.prepared()
        let intake = ConsoleIntakeEndToEndTests()
        let before = try intake.disputes(d).count
        let list = try browser.get("/disputes")
        #expect(list.body.contains("href=\"/disputes/new\"") && list.body.contains("登记纠纷"), "\(list)")
        let csrf = try #require(try browser.get("/disputes/new").hidden("csrf"))
        let noHours = ["party-1-hours": "", "party-2-hours": ""]

        // Refused: the second party's mobile is short. Said beside it in Chinese, what was typed kept, nothing written.
        let refused = try browser.post(
            "/disputes/new", intake.fields(csrf, noHours.merging(["party-2-mobile": "1370000002"]) { $1 }))
        #expect(refused.status == 422, "\(refused)")
        #expect(refused.body.contains("id=\"party-2-mobile-error\">手机号“1370000002”不正确"), "\(refused)")
        #expect(refused.body.contains("value=\"1370000002\"") && refused.body.contains("value=\"李强\""))
        #expect(try intake.disputes(d).count == before)

        // A viewer of the same office may not post it.
        let viewer = try ConsoleWeekEndToEndTests.account(
            d, base: browser.base, name: "zhao.min", role: "viewer", offices: ["jinshan"])
        let token = try #require(try viewer.get("/").hidden("csrf"))
        let viewerPost = try viewer.post("/disputes/new", intake.fields(token, noHours))
        #expect(viewerPost.status == 403, "\(viewerPost)")
        #expect(try intake.disputes(d).count == before)

        // Registered with two parties: the case file.
        let done = try browser.post("/disputes/new", intake.fields(csrf, noHours))
        #expect(done.status == 303, "\(done)")
        let location = try #require(done.location)
        let number = String(location.dropFirst("/disputes/".count).prefix { $0 != "?" })
        #expect(number.hasPrefix("JS-"), "\(location)")
        #expect(try intake.disputes(d).count == before + 1)
        let shown = try #require(try d.json("dispute", "show", number) as? [String: Any])
        #expect((shown["parties"] as? [[String: Any]])?.count == 2, "\(shown)")

        // The API's options, then the same search with its first panel's first expert excluded.
        let (from, to) = mondayAfterNext(plus: 11)
        let plain = try #require(try d.json("session", "find", number, "--from", from, "--to", to) as? [String: Any])
        let firstPanel = try #require((plain["options"] as? [[String: Any]])?.first?["panel"] as? [[String: Any]])
        let excluded = try #require(firstPanel.first?["name"] as? String, "\(plain)")
        let api = try #require(
            try d.json("session", "find", number, "--from", from, "--to", to, "--exclude", excluded) as? [String: Any])
        let apiOptions = try #require(api["options"] as? [[String: Any]])
        let form = try browser.get("/disputes/\(number)/find")
        #expect(form.body.contains("id=\"pin\"") && form.body.contains("id=\"exclude\""), "\(form)")
        let without = try browser.post(
            "/disputes/\(number)/find", [("csrf", csrf), ("from", from), ("to", to), ("exclude", excluded)])
        #expect(without.status == 200, "\(without)")
        #expect(without.body.components(separatedBy: "id=\"book-").count - 1 == apiOptions.count, "\(without)")
        #expect(without.body.components(separatedBy: excluded).count - 1 == 1, "only as typed: \(without)")

        // An expert nobody knows: said beside the field, kept, nothing searched.
        let unknown = try browser.post(
            "/disputes/\(number)/find", [("csrf", csrf), ("from", from), ("to", to), ("pin", "不存在的人")])
        #expect(unknown.status == 422, "\(unknown)")
        #expect(unknown.body.contains("id=\"pin-error\">找不到专家“不存在的人”"), "\(unknown)")
        #expect(unknown.body.contains("value=\"不存在的人\"") && !unknown.body.contains("id=\"book-1\""))

        // Pinned: every option has that expert, as the API's pinned search.
        let pinned = try #require(apiOptions.first?["panel"] as? [[String: Any]])
        let pin = try #require(pinned.first?["name"] as? String)
        let apiPinned = try #require(
            try d.json("session", "find", number, "--from", from, "--to", to, "--pin", pin) as? [String: Any])
        let pinnedCount = (apiPinned["options"] as? [[String: Any]])?.count ?? 0
        let found = try browser.post(
            "/disputes/\(number)/find", [("csrf", csrf), ("from", from), ("to", to), ("pin", pin)])
        let offered = found.body.components(separatedBy: "id=\"book-").count - 1
        #expect(found.status == 200 && offered == pinnedCount && offered > 0, "\(found)")
        // On each option's panel and in its reason, and once in the form's field.
        #expect(found.body.components(separatedBy: pin).count - 1 == 2 * offered + 1, "\(pin) on each: \(found)")

        // Booked from the console's last search: the session with the pinned expert, on the case file and its page.
        let booked = try browser.post("/disputes/\(number)/book", [("csrf", csrf), ("option", "1")])
        #expect(booked.status == 303, "\(booked)")
        let file = try browser.get(try #require(booked.location))
        let link = try #require(file.body.firstMatch(of: #/href="(/sessions/[0-9]+)"/#).map { String($0.1) }, "\(file)")
        let sessionPage = try browser.get(link)
        #expect(sessionPage.status == 200 && sessionPage.body.contains(pin), "\(sessionPage)")
        #expect(sessionPage.body.contains("已预约") && !sessionPage.body.contains(">booked<"), "\(sessionPage)")
        let stored = try #require(try d.json("session", "list", "--dispute", number) as? [String: Any])
        let storedSessions = try #require(stored["sessions"] as? [[String: Any]])
        #expect(storedSessions.count == 1, "\(stored)")
        let start = try #require(storedSessions.first?["start"] as? String)

        // 改期: a day without a time is refused beside the field in Chinese (Core's Intake.sessionStart, as the API's
        // reschedule), nothing moved; the same time a week later moves it, as the API shows.
        let token2 = try #require(sessionPage.hidden("csrf"))
        #expect(sessionPage.body.contains("id=\"reschedule\""), "\(sessionPage)")
        let day = String(start.prefix(10))
        let bare = try browser.post("\(link)/reschedule", [("csrf", token2), ("start", day)])
        #expect(bare.status == 422, "\(bare)")
        #expect(bare.body.contains("id=\"start-error\">“\(day)”只有日期，请同时填写时间"), "\(bare)")
        #expect(bare.body.contains("value=\"\(day)\""), "what was typed is kept")
        // At three in the morning: the store's own reason (outside the office hours, said in Chinese with the hours
        // in Chinese) beside the field, not a generic line; nothing moved.
        let night = try browser.post("\(link)/reschedule", [("csrf", token2), ("start", "\(day) 03:00")])
        #expect(night.status == 422, "\(night)")
        #expect(night.body.contains("id=\"start-error\">"), "\(night)")
        #expect(night.body.contains("不在") && night.body.contains("办公时间内（周一"), "\(night)")
        #expect(!night.body.contains("outside the office hours") && !night.body.contains("mon-fri"), "\(night)")
        let unmoved = try #require(try d.json("session", "list", "--dispute", number) as? [String: Any])
        #expect((unmoved["sessions"] as? [[String: Any]])?.first?["start"] as? String == start)
        let (calendar, f) = shanghaiDays()
        let later = f.string(
            from: calendar.date(byAdding: .day, value: 7, to: try #require(f.date(from: day))) ?? Date())
        let moved = try browser.post(
            "\(link)/reschedule", [("csrf", token2), ("start", "\(later) \(start.dropFirst(11).prefix(5))")])
        #expect(moved.status == 303, "\(moved)")
        let after = try #require(try d.json("session", "list", "--dispute", number) as? [String: Any])
        let newStart = (after["sessions"] as? [[String: Any]])?.first?["start"] as? String
        #expect(newStart == later + String(start.dropFirst(10)), "\(start) → \(newStart ?? "nothing")")

        // 替换专家: a panel member's substitutes are the store's, fairest first; one is put in, as the API shows; a
        // substitute already on the panel is refused and nothing changes.
        let panel = try #require((after["sessions"] as? [[String: Any]])?.first?["panel"] as? [[String: Any]])
        // The first seat that has a substitute free at that time; every seat is offered.
        var chosen: (id: Int, name: String, substitute: String)?
        for seat in panel {
            let seatId = try #require(seat["expert"] as? Int)
            let seatName = try #require(seat["name"] as? String)
            let offer = try browser.get("\(link)?replace=\(seatId)")
            #expect(offer.status == 200 && offer.body.contains("替换专家 · \(seatName)"), "\(offer)")
            #expect(offer.body.contains("id=\"substitute-") || offer.body.contains("id=\"no-substitutes\""))
            if chosen == nil, let m = offer.body.firstMatch(of: #/id="substitute-([0-9]+)"/#) {
                chosen = (seatId, seatName, String(m.1))
            }
        }
        let (seatId, seatName, substitute) = try #require(chosen, "no seat has a substitute: \(panel)")
        let otherMember = try #require(panel.compactMap { $0["expert"] as? Int }.first { $0 != seatId })
        let onPanel = try browser.post(
            "\(link)/replace", [("csrf", token2), ("expert", String(seatId)), ("with", String(otherMember))])
        #expect(onPanel.status == 422 && onPanel.body.contains("id=\"form-problems\""), "\(onPanel)")
        #expect(onPanel.body.contains("已在专家组里，请选组外的专家"), "the store's reason, in Chinese: \(onPanel)")
        let same = try #require(try d.json("session", "list", "--dispute", number) as? [String: Any])
        #expect("\(same)".contains(seatName), "nothing changed: \(same)")
        let replaced = try browser.post(
            "\(link)/replace", [("csrf", token2), ("expert", String(seatId)), ("with", substitute)])
        #expect(replaced.status == 303, "\(replaced)")
        let newPanel = try #require(try d.json("session", "list", "--dispute", number) as? [String: Any])
        let ids = ((newPanel["sessions"] as? [[String: Any]])?.first?["panel"] as? [[String: Any]])?.compactMap {
            $0["expert"] as? Int
        }
        #expect(ids?.contains(Int(substitute) ?? 0) == true && ids?.contains(seatId) == false, "\(newPanel)")

        // 利害关系 from the case file (the store's addConflict, as the API's): a form naming nobody is refused beside
        // its fields and writes nothing; the pinned expert's conflict with the applicant is recorded and listed;
        // the same again is said and not written twice.
        let caseFile = try browser.get("/disputes/\(number)")
        #expect(caseFile.body.contains("利害关系") && caseFile.body.contains("id=\"add-conflict\""), "\(caseFile)")
        let applicant = try #require(
            caseFile.body.firstMatch(of: #/<option value="([0-9]+)">张/#).map { String($0.1) }, "\(caseFile)")
        let empty = try browser.post(
            "/disputes/\(number)/conflicts", [("csrf", csrf), ("expert", ""), ("party", ""), ("reason", "亲属")])
        #expect(empty.status == 422, "\(empty)")
        #expect(empty.body.contains("id=\"conflict-expert-error\">请填写专家的姓名或编号"), "\(empty)")
        #expect(empty.body.contains("id=\"conflict-party-error\">请选择一位当事人，或填写单位名称"), "\(empty)")
        #expect(empty.body.contains("value=\"亲属\""), "what was typed is kept")
        let nobody = try browser.post(
            "/disputes/\(number)/conflicts", [("csrf", csrf), ("expert", "不存在的人"), ("party", applicant)])
        #expect(nobody.status == 422 && nobody.body.contains("id=\"conflict-expert-error\">找不到这位专家"), "\(nobody)")
        #expect(try sqlite(d, "SELECT count(*) FROM conflict") == "0")
        let fields = [("csrf", csrf), ("expert", pin), ("party", applicant), ("reason", "申请人的表亲")]
        let recorded = try browser.post("/disputes/\(number)/conflicts", fields)
        #expect(recorded.status == 303, "\(recorded)")
        let listed = try browser.get("/disputes/\(number)")
        #expect(listed.body.contains("\(pin) · 关系人 张") && listed.body.contains("申请人的表亲"), "\(listed)")
        let twice = try browser.post("/disputes/\(number)/conflicts", fields)
        #expect(twice.status == 422 && twice.body.contains("已经登记过了"), "\(twice)")
        #expect(try sqlite(d, "SELECT count(*) FROM conflict") == "1")
        let conflicts = try #require(try d.json("conflict", "list", "--dispute", number) as? [String: Any])
        #expect("\(conflicts)".contains(pin), "the API sees it: \(conflicts)")
        // A viewer may not record one, nor remove one.
        #expect(try viewer.post("/disputes/\(number)/conflicts", fields).status == 403)
        let id = try sqlite(d, "SELECT id FROM conflict")
        #expect(listed.body.contains("id=\"remove-conflict-\(id)\""), "\(listed)")
        #expect(
            try viewer.post("/disputes/\(number)/conflicts/remove", [("conflict", id), ("removeReason", "x")]).status
                == 403)
        // Removing needs a reason (said in Chinese, nothing removed); with one, it is gone and audited.
        let noReason = try browser.post(
            "/disputes/\(number)/conflicts/remove", [("csrf", csrf), ("conflict", id), ("removeReason", " ")])
        #expect(noReason.status == 422 && noReason.body.contains("撤销利害关系须说明原因"), "\(noReason)")
        #expect(try sqlite(d, "SELECT count(*) FROM conflict") == "1")
        #expect(
            try browser.post(
                "/disputes/\(number)/conflicts/remove", [("csrf", csrf), ("conflict", "999"), ("removeReason", "x")]
            ).status == 404, "a conflict of no dispute of this page")
        let removed = try browser.post(
            "/disputes/\(number)/conflicts/remove", [("csrf", csrf), ("conflict", id), ("removeReason", "查明并非亲属")])
        #expect(removed.status == 303, "\(removed)")
        #expect(try sqlite(d, "SELECT count(*) FROM conflict") == "0")
        #expect(try audit(d).contains("conflict.remove"))
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
