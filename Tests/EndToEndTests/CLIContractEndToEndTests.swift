import Foundation
import Testing

/// `mediationctl` speaks only the contract: it does not link MediationCore, the daemon lays out reports in the form
/// asked for by `Accept`, reads hours and lists as people write them, and names the days of a week.
@Suite(.serialized)
struct CLIContractEndToEndTests {
    /// The CLI target's dependencies in Package.swift, and its imports: the contract module and the argument parser,
    /// with only the HTTP transport beside them.
    @Test func theCommandLineDependsOnTheContractAndNotOnCore() throws {
        let package = try String(contentsOfFile: Repo.root.path + "/Package.swift", encoding: .utf8)
        let start = try #require(package.range(of: ".executableTarget(\n            name: \"mediationctl\","))
        let rest = package[start.upperBound...]
        let end = try #require(rest.range(of: ".executableTarget("))
        let target = String(rest[..<end.lowerBound])
        let ours = target.matches(of: /"(Mediation[A-Za-z]*)"/).map { String($0.1) }
        #expect(ours == ["MediationAPI"], "mediationctl depends on \(ours)")
        let products = target.matches(of: /\.product\(name: "([A-Za-z]+)"/).map { String($0.1) }
        #expect(
            Set(products).isSubset(
                of: ["ArgumentParser", "AsyncHTTPClient", "OpenAPIAsyncHTTPClient", "OpenAPIRuntime", "HTTPTypes"]),
            "\(products)")
        let folder = Repo.root.path + "/Sources/mediationctl"
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".swift") {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            #expect(!text.contains("import MediationCore"), "\(file) imports MediationCore")
            #expect(!text.contains("ResponseRecorder"), "\(file) still records raw responses")
            // Transport failures are classified by type and errno, never by the words of their description.
            #expect(!text.contains("text.contains(\"ECONNREFUSED\")"), "\(file) reads errors by their text")
        }
    }

    @Test func reportsComeInTheFormAskedForAndTheCommandLinePrintsWhatTheDaemonLaidOut() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)

        // The daemon answers each Accept with its form, from one document.
        let query = "/v1/reports/experts?from=2026-10-01&to=2026-12-31"
        let forms: [(accept: String, type: String, starts: String)] = [
            ("text/csv", "text/csv", "\u{FEFF}"), ("text/html", "text/html", "<!DOCTYPE html>"),
            ("text/plain", "text/plain", ""), ("application/json", "application/json", "{"),
        ]
        for form in forms {
            let out = try runProgram(
                "/usr/bin/curl",
                [
                    "-s", "-D", "-", "--unix-socket", d.socket, "-H", "Accept: \(form.accept)",
                    "http://localhost" + query,
                ])
            #expect(out.status == 0)
            let parts = out.stdout.components(separatedBy: "\r\n\r\n")
            let head = parts.first ?? ""
            let body = parts.dropFirst().joined(separator: "\r\n\r\n")
            #expect(head.hasPrefix("HTTP/1.1 200"), "\(form.accept): \(head)")
            #expect(head.lowercased().contains("content-type: \(form.type)"), "\(form.accept): \(head)")
            #expect(body.hasPrefix(form.starts), "\(form.accept): \(body.prefix(80))")
        }
        // Without Accept: the API's JSON, as before.
        let (plainStatus, plainBody) = try d.curl(["http://localhost" + query])
        #expect(plainStatus == 200 && plainBody.hasPrefix("{"))

        // The CLI writes the daemon's forms: tables, CSV to a file, HTML, JSON.
        let table = try d.ctl("report", "experts", "--from", "2026-10-01", "--to", "2026-12-31")
        #expect(table.status == 0, "\(table)")
        let (_, text) = try d.curl(["-H", "Accept: text/plain", "http://localhost" + query])
        #expect(table.stdout == text)
        let file = d.dir.appendingPathComponent("experts.csv").path
        let csv = try d.ctl("report", "experts", "--from", "2026-10-01", "--to", "2026-12-31", "--csv", "-o", file)
        #expect(csv.status == 0, "\(csv)")
        let written = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(Array(written.prefix(3)) == [0xEF, 0xBB, 0xBF], "the file starts with a BOM for Excel")
        let (_, sent) = try d.curl(["-H", "Accept: text/csv", "http://localhost" + query])
        // The same bytes as the daemon sends, the byte-order mark aside (the harness's decoding drops it).
        let sentScalars = sent.unicodeScalars.drop { $0 == "\u{FEFF}" }
        #expect(String(decoding: written.dropFirst(3), as: UTF8.self) == String(String.UnicodeScalarView(sentScalars)))
        let json = try #require(
            try d.json("report", "experts", "--from", "2026-10-01", "--to", "2026-12-31") as? [String: Any])
        #expect(json["experts"] != nil || json["rows"] != nil || !json.isEmpty)

        // A bad range is refused by the daemon, in its words, and the CLI says it with the usage exit code.
        let reversed = try d.ctl("report", "outcomes", "--from", "2026-12-31", "--to", "2026-10-01")
        #expect(reversed.status == 2, "\(reversed)")
        #expect(reversed.stderr.contains("2026-12-31") && !reversed.stderr.contains("Error:\n"), "\(reversed)")
        let badWeek = try d.ctl("report", "weekly", "--week", "2026-W60")
        #expect(badWeek.status == 2, "\(badWeek)")
        #expect(badWeek.stderr.contains("2026-W60"), "\(badWeek)")
    }

    @Test func hoursAndListsAreReadByTheDaemonAsPeopleWriteThem() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)

        // Office hours as text, read by the daemon; shown back as text.
        let office = try d.ctl(
            "office", "add", "xinhe", "--name", "新河警务室", "--hours", "周一至周五 09:00-12:00, 14:00-17:30; sat 09:00-11:00")
        #expect(office.status == 0, "\(office)")
        let weekday = "09:00-12:00 14:00-17:30"
        let hours = ["mon", "tue", "wed", "thu", "fri"].map { "\($0) \(weekday)" } + ["sat 09:00-11:00"]
        #expect(office.stdout.contains("hours:     " + hours.joined(separator: "; ")), "\(office)")
        let stored = try #require(try d.json("office", "show", "xinhe") as? [String: Any])
        #expect((stored["workingHours"] as? [Any])?.count == 11)

        // A wrong range is the daemon's refusal naming what was typed; nothing is written.
        let bad = try d.ctl("office", "update", "xinhe", "--hours", "mon 09:00-25:00")
        #expect(bad.status == 2, "\(bad)")
        #expect(bad.stderr.contains("09:00-25:00"), "\(bad)")
        let after = try #require(try d.json("office", "show", "xinhe") as? [String: Any])
        #expect((after["workingHours"] as? [Any])?.count == 11)
        // Empty hours (an unset shell variable) are caught before anything is sent.
        let empty = try d.ctl("office", "update", "xinhe", "--hours", " ")
        #expect(empty.status == 2 && empty.stderr.contains("--hours is empty"), "\(empty)")

        // Through the API: the text and the list at once are refused; empty text is refused.
        let (both, bothBody) = try d.curl([
            "-X", "PATCH", "-H", "Content-Type: application/json", "http://localhost/v1/offices/xinhe", "-d",
            #"{"hours":"mon 09:00-12:00","workingHours":[]}"#,
        ])
        #expect(both == 422 && bothBody.contains("either workingHours or hours"), "\(both) \(bothBody)")
        let (blank, blankBody) = try d.curl([
            "-X", "PATCH", "-H", "Content-Type: application/json", "http://localhost/v1/offices/xinhe", "-d",
            #"{"hours":"  "}"#,
        ])
        #expect(blank == 422 && blankBody.contains("hours"), "\(blank) \(blankBody)")

        // An expert's lists as typed (、 and commas), split by the daemon; the role's Chinese name comes with it.
        let expert = try d.ctl(
            "expert", "add", "--name", "韩梅", "--role", "lawyer", "--office", "jinshan, xinhe",
            "--specialty", "婚姻家庭、邻里", "--hours", "tue 19:00-21:00", "--mobile", "13800138011")
        #expect(expert.status == 0, "\(expert)")
        #expect(expert.stdout.contains("role:        lawyer 律师"), "\(expert)")
        #expect(expert.stdout.contains("offices:     jinshan, xinhe"), "\(expert)")
        #expect(expert.stdout.contains("hours:       tue 19:00-21:00"), "\(expert)")
        let id = try #require(
            expert.stdout.split(separator: "\n").first { $0.hasPrefix("id:") }.map {
                $0.dropFirst(3).trimmingCharacters(in: .whitespaces)
            })
        let shown = try #require(try d.json("expert", "show", id) as? [String: Any])
        #expect((shown["specialties"] as? [String])?.count == 2, "\(shown)")
        #expect(shown["roleName"] as? String == "律师")
    }

    @Test func theWeekGridAsksTheDaemonForTheWeekAndItsDays() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)
        let week = try #require(
            try d.json("session", "week", "--office", "jinshan", "--week", "2026-W53") as? [String: Any])
        #expect(week["week"] as? String == "2026-W53")
        #expect(week["days"] as? [String] == (28...31).map { "2026-12-\($0)" } + (1...3).map { "2027-01-0\($0)" })
        let grid = try d.ctl("session", "week", "--office", "jinshan", "--week", "2026-w53")
        #expect(grid.status == 0, "\(grid)")
        #expect(grid.stdout.hasPrefix("week 2026-W53, jinshan"), "\(grid)")
        #expect(grid.stdout.contains("mon 12-28") && grid.stdout.contains("sun 01-03"), "\(grid)")
        // This week: seven days, a Monday first, in the office's zone.
        let now = try #require(try d.json("session", "week", "--office", "jinshan") as? [String: Any])
        let days = try #require(now["days"] as? [String])
        #expect(days.count == 7)
        // A week that does not exist is the daemon's refusal.
        let bad = try d.ctl("session", "week", "--week", "2026-W54")
        #expect(bad.status == 2 && bad.stderr.contains("2026-W54"), "\(bad)")
        // A week and a range at once are refused through the API.
        let (both, body) = try d.curl(["http://localhost/v1/sessions?week=this&from=2026-12-01"])
        #expect(both == 422 && body.contains("not both"), "\(both) \(body)")
    }

    /// The sample offices and roster, dispute 1 (漏水, jinshan) with 张伟 by mail, and its first option booked: the
    /// booking as the API answers it.
    static func bookedWithAParty(_ d: DaemonUnderTest) throws -> [String: Any] {
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        #expect(
            try d.ctl("dispute", "open", "--office", "jinshan", "--title", "漏水", "--category", "neighbour").status == 0)
        #expect(
            try d.ctl("party", "add", "1", "--name", "张伟", "--side", "applicant", "--email", "zw@example.org").status
                == 0)
        _ = try SessionEndToEndTests().find(d, "1")
        return try #require(try d.json("session", "book", "1", "--option", "1") as? [String: Any])
    }

    /// A Chinese locale gets the refusals in Chinese where Core's catalogue has them; others keep English.
    @Test func aChineseReaderReadsStatusTheOutboxAndASessionInChinese() throws {
        let d = try DaemonUnderTest()
        try d.start()
        defer { d.stop() }
        let booked = try Self.bookedWithAParty(d)
        let id = try #require(booked["id"] as? Int)
        let zh = ["LANG": "zh_CN.UTF-8", "PATH": "/usr/bin:/bin"]
        func run(_ args: String...) throws -> Outcome {
            try runProgram(Repo.ctl, ["--socket", d.socket] + args, environment: zh)
        }

        let status = try run("status")
        #expect(status.status == 0 && status.stdout.contains("发件箱：") && status.stdout.contains("待发送"), "\(status)")
        #expect(status.stdout.contains("无法通知：") && !status.stdout.contains("pending "), "\(status)")
        let list = try run("outbox", "list", "--session", String(id))
        #expect(list.stdout.contains("收件人") && list.stdout.contains("预约通知") && list.stdout.contains("当事人"), "\(list)")
        for english in [" notice ", " pending ", "(party #", "SESSION", " shown"] {
            #expect(!list.stdout.contains(english), "'\(english)' in: \(list)")
        }
        let message = try #require(
            (try d.json("outbox", "list", "--session", String(id)) as? [String: Any]).flatMap {
                ($0["messages"] as? [[String: Any]])?.first { $0["recipientKind"] as? String == "party" }?["id"] as? Int
            })
        let shown = try run("outbox", "show", String(message))
        #expect(shown.stdout.contains("收件人：") && shown.stdout.contains("张伟（") == false, "\(shown)")
        #expect(shown.stdout.contains("张伟 (当事人 #") && shown.stdout.contains("状态："), "\(shown)")
        let session = try run("session", "show", String(id))
        #expect(
            session.stdout.contains("已预约") && session.stdout.contains("席位") && session.stdout.contains("待回复"),
            "\(session)")
        #expect(!session.stdout.contains("booked") && !session.stdout.contains("pending"), "\(session)")
        let dispute = try run("dispute", "show", "1")
        #expect(
            dispute.stdout.contains("风险：") && dispute.stdout.contains("当事人：") && dispute.stdout.contains("申请人"),
            "\(dispute)")
        #expect(dispute.stdout.contains("状态变化：") && dispute.stdout.contains("调解场次："), "\(dispute)")
        #expect(
            dispute.stdout.contains("登记") && !dispute.stdout.contains("opened"), "the store's reasons too: \(dispute)")
        for english in ["risk:", "applicant", "status history", "sessions:", " none"] {
            #expect(!dispute.stdout.contains(english), "'\(english)' in: \(dispute)")
        }
        let disputes = try run("dispute", "list")
        #expect(disputes.stdout.contains("共 1 件纠纷") && disputes.stdout.contains("名称"), "\(disputes)")
        // The words come from the daemon's one catalogue, in the language asked for.
        let (code, words) = try d.curl(["-H", "Accept-Language: zh-CN", "http://localhost/v1/words"])
        let catalogue = try #require(try JSONSerialization.jsonObject(with: Data(words.utf8)) as? [String: Any])
        #expect(code == 200 && catalogue["language"] as? String == "zh", "\(code) \(words)")
        #expect((catalogue["words"] as? [String: String])?["outbox.dead"] == "无法送达", "\(words)")
        // An English reader's output is as before.
        let english = try d.ctl("status")
        #expect(english.stdout.contains("outbox:") && english.stdout.contains("pending"), "\(english)")
    }

    /// Every other listing and record a clerk reads (experts, offices, accounts, the audit trail, leave, sessions,
    /// outcomes, visits, escalations, warnings, conflicts, policies, health), for a Chinese reader: Chinese headings
    /// and labels, and the codes in Core's words. An English reader's output is unchanged (every other test reads it).
    @Test func aChineseReaderReadsEveryListingAndRecordInChinese() throws {
        let d = try DaemonUnderTest(movableClock: true)
        try d.start()
        defer { d.stop() }
        let booked = try Self.bookedWithAParty(d)
        let session = try #require(booked["id"] as? Int)
        let expert = try #require((booked["panel"] as? [[String: Any]])?.first?["expert"] as? Int)
        #expect(try d.ctl("user", "add", "wang.li", "--role", "staff", "--office", "jinshan").status == 0)
        #expect(try d.ctl("conflict", "add", String(expert), "--organisation", "金山物业", "--reason", "法律顾问").status == 0)
        #expect(
            try d.ctl("expert", "leave", "add", String(expert), "--from", "2099-01-05", "--to", "2099-01-05").status
                == 0)
        let zh = ["LANG": "zh_CN.UTF-8", "PATH": "/usr/bin:/bin"]
        func run(_ args: String...) throws -> Outcome {
            let out = try runProgram(Repo.ctl, ["--socket", d.socket] + args, environment: zh)
            #expect(out.status == 0, "\(args): \(out)")
            return out
        }
        // Leave over the booked session: the warning names it and the replace command, in Chinese.
        let sessionDay = String(try #require(booked["start"] as? String).prefix(10))
        let overlapping = try run("expert", "leave", "add", String(expert), "--from", sessionDay, "--to", sessionDay)
        #expect(overlapping.stderr.contains("这段请假与其重叠") && overlapping.stderr.contains("请替换"), "\(overlapping)")
        #expect(!overlapping.stderr.contains("sits on the panel"), "\(overlapping)")
        let leaveId = try #require(overlapping.stdout.firstMatch(of: /#([0-9]+)/).map { String($0.1) })
        _ = try run("expert", "leave", "remove", String(expert), leaveId)
        /// A table's heading line has no Latin letter in it.
        func headedInChinese(_ out: Outcome, _ what: String) {
            let heading = out.stdout.split(separator: "\n").first.map(String.init) ?? ""
            #expect(
                !heading.isEmpty && heading.range(of: "[A-Za-z]", options: .regularExpression) == nil, "\(what): \(out)"
            )
        }

        // Why each option, in Chinese: the day, each member's role and their recent sessions.
        let (from, to) = mondayAfterNext(plus: 11)
        let found = try run("session", "find", "1", "--from", from, "--to", to)
        #expect(found.stdout.contains("近 30 天") && found.stdout.contains("专家组 标准组成"), "\(found)")
        for english in ["sessions in 30 days", "legal_officer", "Asia/Shanghai:", "min, policy"] {
            #expect(!found.stdout.contains(english), "'\(english)' in: \(found)")
        }
        // A time off the quarter-hour grid is refused as such (it read "nothing fits", which misled).
        let offGrid = try runProgram(
            Repo.ctl, ["--socket", d.socket, "session", "reschedule", String(session), "--to", "\(sessionDay) 14:10"],
            environment: zh)
        #expect(offGrid.status == 2 && offGrid.stderr.contains("调解须在整刻开始"), "\(offGrid)")
        try d.moveClock(toSession: session)
        #expect(try d.ctl("session", "start", String(session)).status == 0)
        #expect(try d.ctl("session", "end", String(session)).status == 0)
        let recorded = try run("outcome", "record", String(session), "agreement", "--terms", "赔偿 100 元")
        #expect(recorded.stdout.contains("结果 #1：达成协议") && recorded.stdout.contains("协议内容："), "\(recorded)")
        #expect(recorded.stdout.contains("现为“已化解”") && recorded.stdout.contains("已安排 2 次回访"), "\(recorded)")
        for english in ["outcome #", "terms:", "is now", "planned", "DUE"] {
            #expect(!recorded.stdout.contains(english), "'\(english)' in: \(recorded)")
        }
        let shown = try run("outcome", "show", String(session))
        #expect(shown.stdout.contains("已签字：") && shown.stdout.contains("记录时间："), "\(shown)")
        let visits = try run("followup", "list", "--all")
        headedInChinese(visits, "followup list")
        #expect(visits.stdout.contains("共 2 次回访，其中 0 次逾期"), "\(visits)")
        let escalated = try run("escalation", "add", "1", "petition", "--notes", "到街道信访")
        #expect(escalated.stdout.contains("登记升级 #1") && escalated.stdout.contains("越级上访"), "\(escalated)")
        #expect(escalated.stdout.contains("风险现为“极高”") && !escalated.stdout.contains("risk"), "\(escalated)")
        // The case file's sessions, outcome, visits and escalations, and the store's own reasons, in Chinese too.
        let file = try run("dispute", "show", "1")
        #expect(file.stdout.contains("达成协议") && file.stdout.contains("越级上访"), "\(file)")
        #expect(file.stdout.contains("（法制民警）") && file.stdout.contains("结果：达成协议"), "\(file)")
        for english in ["agreement", "petition", "legal_officer", "outcome:"] {
            #expect(!file.stdout.contains(english), "'\(english)' in: \(file)")
        }
        // A report read in a terminal: the reader's language alone (print and spreadsheets keep both).
        let weekly = try run("report", "weekly", "--office", "jinshan")
        #expect(weekly.stdout.contains("每周研判") && !weekly.stdout.contains("Weekly review"), "\(weekly)")
        // A filter the contract refuses names the parameter and its choices as a Chinese reader acts on them.
        let wrong = try runProgram(
            Repo.ctl, ["--socket", d.socket, "dispute", "list", "--status", "已结案"], environment: zh)
        #expect(wrong.status == 2 && wrong.stderr.contains("状态（status）"), "\(wrong)")
        #expect(wrong.stderr.contains("请写 open、") && !wrong.stderr.contains("^("), "\(wrong)")
        // The argument parser's own refusals too.
        let missing = try runProgram(Repo.ctl, ["--socket", d.socket, "expert", "show"], environment: zh)
        #expect(missing.status == 2 && missing.stderr.contains("错误：缺少参数 <expert>"), "\(missing)")
        #expect(
            missing.stderr.contains("用法：mediationctl expert show") && !missing.stderr.contains("Error:"), "\(missing)")
        let escalations = try run("escalation", "list")
        headedInChinese(escalations, "escalation list")
        #expect(!escalations.stdout.contains("petition"), "\(escalations)")

        let experts = try run("expert", "list", "--office", "jinshan")
        headedInChinese(experts, "expert list")
        #expect(experts.stdout.contains("名专家") && experts.stdout.contains("在册"), "\(experts)")
        #expect(experts.stdout.contains("法制民警") && !experts.stdout.contains("legal_officer"), "\(experts)")
        // Specialties typed in Chinese are the same tags as the codes: found by either name, shown in Chinese.
        #expect(try d.ctl("expert", "update", String(expert), "--specialty", "物业,债务").status == 0)
        let byCode = try #require(try d.json("expert", "list", "--specialty", "debt") as? [String: Any])
        #expect((byCode["experts"] as? [[String: Any]])?.contains { $0["id"] as? Int == expert } == true, "\(byCode)")
        let byName = try run("expert", "list", "--specialty", "债务")
        #expect(byName.stdout.contains("债务、物业"), "\(byName)")
        let one = try run("expert", "show", String(expert))
        #expect(one.stdout.contains("姓名：") && one.stdout.contains("可调解时间：") && one.stdout.contains("每天"), "\(one)")
        #expect(!one.stdout.contains("mon") && !one.stdout.contains("a week"), "\(one)")
        let free = try run("expert", "availability", String(expert), "--from", "2099-01-05", "--to", "2099-01-11")
        headedInChinese(
            Outcome(
                status: 0, stdout: String(free.stdout.split(separator: "\n").dropFirst().joined(separator: "\n")),
                stderr: ""),
            "availability")
        #expect(free.stdout.contains("空闲时间") && free.stdout.contains("合计："), "\(free)")
        let leave = try run("expert", "leave", "list", String(expert))
        headedInChinese(leave, "leave list")
        // A roster line the store refuses (an email that belongs to another expert, with another mobile): Chinese.
        let clash = d.dir.appendingPathComponent("clash.csv")
        try Data(
            ("姓名,角色,手机,邮箱,服务警务室\n"
                + "陈志远,律师,13900009999,chen.zhiyuan@example.org,jinshan\n").utf8
        ).write(to: clash)
        let refused = try runProgram(
            Repo.ctl, ["--socket", d.socket, "expert", "import", clash.path, "--dry-run"], environment: zh)
        #expect(refused.status == 2 && refused.stderr.contains("第 2 行：邮箱 chen.zhiyuan@example.org 属于专家"), "\(refused)")
        #expect(!refused.stderr.contains("belongs to"), "\(refused)")
        let offices = try run("office", "list")
        headedInChinese(offices, "office list")
        #expect(offices.stdout.contains("分钟"), "\(offices)")
        let office = try run("office", "show", "jinshan")
        #expect(office.stdout.contains("办公时间：") && office.stdout.contains("周一"), "\(office)")
        let users = try run("user", "list")
        headedInChinese(users, "user list")
        #expect(users.stdout.contains("工作人员") && users.stdout.contains("一次性密码"), "\(users)")
        let audit = try run("audit", "list", "--limit", "20")
        headedInChinese(audit, "audit list")
        #expect(audit.stdout.contains("预约调解") && audit.stdout.contains("管理员"), "\(audit)")
        #expect(audit.stdout.contains("调解场次 1") && audit.stdout.contains("账号 wang.li"), "\(audit)")
        #expect(audit.stdout.contains("登记请假") && !audit.stdout.contains("expert.leave"), "\(audit)")
        let sessions = try run("session", "list")
        headedInChinese(sessions, "session list")
        #expect(sessions.stdout.contains("已结束") && sessions.stdout.contains("共 1 场调解"), "\(sessions)")
        let week = try run("session", "week", "--office", "jinshan")
        #expect(week.stdout.hasPrefix("周 ") && week.stdout.contains("周一"), "\(week)")
        #expect(!week.stdout.contains("mon ") && !week.stdout.contains("SESSION"), "\(week)")
        let conflicts = try run("conflict", "list")
        headedInChinese(conflicts, "conflict list")
        let policies = try run("policy", "list")
        headedInChinese(policies, "policy list")
        #expect(policies.stdout.contains("各一名") && !policies.stdout.contains("lawyer"), "\(policies)")
        let warnings = try run("warning", "list")
        headedInChinese(warnings, "warning list")
        let health = try run("health")
        #expect(health.stdout.contains("状态：") && health.stdout.contains("权限 管理员"), "\(health)")
        #expect(!health.stdout.contains("role") && !health.stdout.contains("uptime"), "\(health)")
        // The catalogue names the new groups in both languages.
        let (_, words) = try d.curl(["-H", "Accept-Language: zh-CN", "http://localhost/v1/words"])
        let catalogue = try #require(
            (try JSONSerialization.jsonObject(with: Data(words.utf8)) as? [String: Any])?["words"] as? [String: String])
        #expect(catalogue["result.agreement"] == "达成协议" && catalogue["account.staff"] == "工作人员", "\(words)")
        #expect(catalogue["weekday.mon"] == "周一" && catalogue["audit.session.book"] == "预约调解", "\(words)")
        // An English reader keeps the English headings.
        let english = try d.ctl("expert", "list")
        #expect(english.stdout.hasPrefix("ID") && english.stdout.contains("STATUS"), "\(english)")
    }

    @Test func aChineseLocaleGetsCoresRefusalsInChinese() throws {
        let d = try DaemonUnderTest()
        try d.start()
        try addSampleOffices(d)
        let args = [
            "--socket", d.socket, "dispute", "open", "--office", "jinshan", "--title", "漏水", "--category", "neighbour",
            "--risk", "很高", "--occurred", "上周五傍晚",
        ]
        let chinese = try runProgram(Repo.ctl, args, environment: ["LANG": "zh_CN.UTF-8", "PATH": "/usr/bin:/bin"])
        #expect(chinese.status == 2, "\(chinese)")
        #expect(chinese.stderr.contains("风险等级“很高”无法识别"), "\(chinese)")
        let english = try runProgram(Repo.ctl, args, environment: ["LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"])
        #expect(english.status == 2 && english.stderr.contains("risk '很高' is unknown"), "\(english)")
        // LC_ALL outranks LANG, as POSIX reads them.
        let overridden = try runProgram(
            Repo.ctl, args, environment: ["LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8", "PATH": "/usr/bin:/bin"])
        #expect(overridden.stderr.contains("is unknown"), "\(overridden)")
        // The API the same way: Accept-Language asks for it.
        let body = #"{"office":"jinshan","title":"漏水","category":"neighbour","risk":"很高"}"#
        let (status, answer) = try d.curl([
            "-X", "POST", "-H", "Content-Type: application/json", "-H", "Accept-Language: zh-CN,zh;q=0.9",
            "http://localhost/v1/disputes", "-d", body,
        ])
        #expect(status == 400 && answer.contains("风险等级“很高”无法识别"), "\(status) \(answer)")
        let list = try #require(try d.json("dispute", "list") as? [String: Any])
        #expect((list["disputes"] as? [Any])?.isEmpty == true, "nothing was written: \(list)")

        // Why no time fits, in the reader's language too: a search when the pool has no experts yet.
        #expect(try d.ctl("dispute", "open", "--office", "jinshan", "--title", "噪音", "--category", "noise").status == 0)
        let search = [
            "--socket", d.socket, "session", "find", "1",
            "--from", "2099-03-02", "--to", "2099-03-03",
        ]
        let why = try runProgram(Repo.ctl, search, environment: ["LANG": "zh_CN.UTF-8", "PATH": "/usr/bin:/bin"])
        #expect(why.status == 0 && why.stdout.contains("这段时间找不到专家和当事人都有空的时间："), "\(why)")
        #expect(why.stdout.contains("专家库里没有") && why.stdout.contains("；请添加，或放宽要求"), "\(why)")
        #expect(!why.stdout.contains("the pool has no"), "\(why)")
        let whyEnglish = try runProgram(Repo.ctl, search, environment: ["LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"])
        #expect(whyEnglish.stdout.contains("the pool has no"), "\(whyEnglish)")
        // The store's refusals too: a search whose dates are the wrong way round.
        let reversed = [
            "--socket", d.socket, "session", "find", "1", "--from", "2099-03-03", "--to", "2099-03-02",
        ]
        let backwards = try runProgram(
            Repo.ctl, reversed, environment: ["LANG": "zh_CN.UTF-8", "PATH": "/usr/bin:/bin"])
        #expect(backwards.status == 2 && backwards.stderr.contains("结束日期早于开始日期"), "\(backwards)")
        #expect(!backwards.stderr.contains("ends before it starts"), "\(backwards)")
    }
}
