import Foundation
import Testing

/// 人民调解协议书 (issue 17, item 5): from an agreement outcome, printed by `mediationctl outcome agreement`, the
/// API's getAgreement and the console's button, laid out by the office's template; rendered to PDF by headless
/// Chromium and read back with pdftotext, every section the People's Mediation Law asks for is there with both
/// parties' names; a session without an agreement outcome is refused; numbers are in full only for the reveal
/// roles; every printing is audited; after a restart the same document comes back with the same number.
@Suite(.serialized) struct AgreementEndToEndTests {
    static let output = Repo.root.appendingPathComponent(".build/test-output/agreement")

    @Test func anAgreementPrintsOnA4WithEverySectionAndIsRefusedWithoutOne() throws {
        let (d, base, oneTime) = try ConsoleHTTPEndToEndTests.console()
        let number = try ConsoleHTTPEndToEndTests().number(d, office: "jinshan")
        for (name, side, mobile, id) in [
            ("张伟", "申请人", "13700000001", "11010519491231002X"), ("李强", "被申请人", "13700000002", "110105194912310038"),
        ] {
            let added = try d.ctl(
                "party", "add", number, "--name", name, "--side", side, "--mobile", mobile, "--id-card", id)
            #expect(added.status == 0, "\(added)")
        }
        let (_, session, _, panel) = try ConsoleWeekEndToEndTests.book(d)
        let id = String(session)

        // Before the session has an outcome, and with an outcome that is not an agreement: refused, said why.
        let early = try d.ctl("outcome", "agreement", id)
        #expect(early.status != 0 && early.stderr.contains("no outcome in force"), "\(early)")
        try d.moveClock(toSession: session, plus: 90 * 60)
        #expect(try d.ctl("session", "start", id).status == 0)
        #expect(try d.ctl("session", "end", id).status == 0)
        #expect(try d.ctl("outcome", "record", id, "no_agreement").status == 0)
        let none = try d.ctl("outcome", "agreement", id)
        #expect(none.status != 0 && none.stderr.contains("only for an agreement"), "\(none)")
        let (status, _) = try d.curl(["http://localhost/v1/sessions/\(id)/agreement"])
        #expect(status == 409, "the API refuses it too")

        // Corrected to an agreement: printed to a file, as HTML for A4.
        let amended = try d.ctl(
            "outcome", "amend", id, "agreement", "--terms", "李强于2026年12月31日前赔偿张伟漏水损失", "--amount", "1200",
            "--reason", "双方最终签字同意")
        #expect(amended.status == 0, "\(amended)")
        try FileManager.default.createDirectory(at: Self.output, withIntermediateDirectories: true)
        let html = Self.output.appendingPathComponent("agreement.html").path
        let printed = try d.ctl("outcome", "agreement", id, "-o", html)
        #expect(printed.status == 0 && printed.stdout.contains(html), "\(printed)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("@page { size: A4") && !page.contains("<script"), "A4, no script")
        #expect(page.contains("\(number)-XY1"), "its number")

        // Rendered by headless Chromium to PDF and read back: every section, both parties, the panel.
        let pdf = Self.output.appendingPathComponent("agreement.pdf").path
        try? FileManager.default.removeItem(atPath: pdf)
        let chromium = try runProgram(
            "/usr/bin/chromium",
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--print-to-pdf=\(pdf)",
                "file://\(html)",
            ])
        #expect(FileManager.default.fileExists(atPath: pdf), "\(chromium)")
        let info = try runProgram("/usr/bin/pdfinfo", [pdf])
        #expect(info.stdout.contains("(A4)"), "A4: \(info.stdout)")
        let text = try runProgram("/usr/bin/pdftotext", [pdf, "-"]).stdout.replacingOccurrences(of: " ", with: "")
        for section in [
            "人民调解协议书", "编号：\(number)-XY1", "一、当事人", "二、纠纷主要事实、争议事项", "三、各方当事人的责任",
            "四、经调解，各方当事人自愿达成如下协议", "五、履行方式、时限", "六、调解员", "一式3份", "按指印", "人民调解组织印章",
            "张伟", "李强", "申请人", "被申请人", "李强于2026年12月31日前赔偿张伟漏水损失", "1200.00", "性别：女", "性别：男",
        ] {
            #expect(text.contains(section), "\(section) in the PDF:\n\(text)")
        }
        for name in panel { #expect(text.contains(name), "mediator \(name)") }

        // The CLI's caller is an admin here (privacy.reveal_roles: admin): numbers in full; audited, without them.
        #expect(page.contains("11010519491231002X") && page.contains("13700000001"), "in full for an admin")
        let audit = try d.ctl("audit", "list", "--limit", "20").stdout
        #expect(audit.contains("outcome.agreement") && audit.contains("in full"), "\(audit)")
        #expect(!audit.contains("11010519491231002X"), "no number in the audit")

        // The console's button: a clerk (not a reveal role) gets the same document with blank lines where the numbers
        // go (a masked number is of no use on paper), on a page whose policy allows its inline style and nothing
        // else.
        let clerk = try ConsoleWeekEndToEndTests.signedIn(d, base, oneTime)
        let sessionPage = try clerk.get("/sessions/\(id)")
        #expect(sessionPage.body.contains("href=\"/sessions/\(id)/agreement\""), "\(sessionPage)")
        let document = try clerk.get("/sessions/\(id)/agreement")
        #expect(document.status == 200 && document.body.contains("人民调解协议书"), "\(document)")
        #expect(
            document.headers["content-security-policy"]
                == "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
        #expect(document.headers["cache-control"] == "no-store")
        #expect(!document.body.contains("1101**********002X") && !document.body.contains("11010519491231002X"))
        #expect(!document.body.contains("13700000001") && !document.body.contains("137****0001"))
        #expect(document.body.contains("身份证号：<span class=\"line\"></span>"), "a blank line to write the number on")
        #expect(try d.ctl("audit", "list", "--limit", "20").stdout.contains("masked"))

        // 调解笔录: the record to fill in, from the CLI and the console; names only, no number.
        let recordFile = Self.output.appendingPathComponent("record.html").path
        let minutes = try d.ctl("session", "minutes", id, "-o", recordFile)
        #expect(minutes.status == 0, "\(minutes)")
        let record = try String(contentsOfFile: recordFile, encoding: .utf8)
        for part in ["调解笔录", "当事人陈述", "调解经过", "调解结果", "记录人", "张伟", "李强", "\(number)-BL\(id)"] {
            #expect(record.contains(part), "\(part) in the record")
        }
        for name in panel { #expect(record.contains(name), "mediator \(name) in the record") }
        #expect(!record.contains("1370000000") && !record.contains("110105"), "no numbers in the record")
        #expect(sessionPage.body.contains("href=\"/sessions/\(id)/record\""), "\(sessionPage)")
        let consoleRecord = try clerk.get("/sessions/\(id)/record")
        #expect(consoleRecord.status == 200 && consoleRecord.body.contains("调解笔录"), "\(consoleRecord)")
        #expect(try d.ctl("session", "minutes", "9999").status != 0, "an unknown session")

        // After a restart: the same agreement, the same number.
        #expect(d.stop() == 0)
        try d.start()
        let again = try d.ctl("outcome", "agreement", id)
        #expect(again.status == 0 && again.stdout.contains("\(number)-XY1"), "\(again.stderr)")
        #expect(d.stop() == 0)
    }
}
