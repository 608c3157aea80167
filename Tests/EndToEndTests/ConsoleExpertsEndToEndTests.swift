import Foundation
import Testing

/// 专家库 in the console (issue 16, item 5), through the real daemon over HTTP: the experts of the clerk's offices with
/// their roles and hours in Chinese and mobiles masked, filters, and one expert's free week as a grid that follows
/// leave added through the CLI; an expert of another office is not there.
@Suite(.serialized) struct ConsoleExpertsEndToEndTests {
    func expertID(_ d: DaemonUnderTest, _ name: String) throws -> Int {
        let list = try #require(try d.json("expert", "list") as? [String: Any])
        let experts = try #require(list["experts"] as? [[String: Any]])
        return try #require(experts.first { $0["name"] as? String == name }?["id"] as? Int, "\(name) in \(experts)")
    }

    @Test func theExpertsOfTheClerksOfficesAndOneExpertsFreeWeek() throws {
        let (d, browser, _) = try ConsoleBookingEndToEndTests.prepared()

        let list = try browser.get("/experts")
        #expect(list.status == 200 && list.headers["cache-control"] == "no-store", "\(list)")
        // 陈志远 serves jinshan and xinhua; 林晓雯 only hongqiao, which is not the clerk's.
        #expect(list.body.contains("陈志远") && !list.body.contains("林晓雯"), "\(list)")
        #expect(list.body.contains("139****0001") && !list.body.contains("13900000001"), "mobiles masked")
        #expect(list.body.contains("周一 19:00-21:00；周三 19:00-21:00；周六 09:00-12:00"), "hours in Chinese")
        #expect(!list.body.contains(">lawyer<") && list.body.contains(">律师<"), "roles in Chinese")
        let lawyers = try browser.get("/experts?role=lawyer")
        #expect(lawyers.body.contains("陈志远") && !lawyers.body.contains("综治专干</td>"), "\(lawyers)")

        // One expert's week: his weekly hours as free half hours (2 h + 2 h + 3 h = 14 cells).
        let chen = try expertID(d, "陈志远")
        func freeCells(_ week: String) throws -> Int {
            let page = try browser.get("/experts/\(chen)?week=\(week)")
            #expect(page.status == 200, "\(page)")
            return page.body.components(separatedBy: "<td class=\"cell free\">").count - 1
        }
        #expect(try freeCells("2027-W10") == 14)
        // Leave on the Wednesday, through the CLI: the grid loses those four half hours and lists the leave.
        let leave = try d.ctl(
            "expert", "leave", "add", String(chen), "--from", "2027-03-10", "--to", "2027-03-10", "--reason", "出差")
        #expect(leave.status == 0, "\(leave)")
        #expect(try freeCells("2027-W10") == 10)
        let page = try browser.get("/experts/\(chen)?week=2027-W10")
        #expect(page.body.contains("3月10日 周三") && page.body.contains("出差"), "\(page)")
        #expect(try freeCells("2027-W11") == 14, "the week after is untouched")

        // Another office's expert is not there; a week that does not exist is said in Chinese.
        let lin = try expertID(d, "林晓雯")
        #expect(try browser.get("/experts/\(lin)").status == 404)
        #expect(try browser.get("/experts/99999").status == 404)
        let bad = try browser.get("/experts/\(chen)?week=2027-W99")
        #expect(bad.status == 400 && bad.body.contains("周次"), "\(bad)")
    }

    /// 管理: an admin reads the offices and the panel policies, in Chinese; a clerk may not.
    @Test func anAdminReadsTheOfficesAndThePoliciesAndAClerkMayNot() throws {
        let (d, browser, _) = try ConsoleBookingEndToEndTests.prepared()
        #expect(try browser.get("/admin/offices").status == 403)
        #expect(try browser.get("/admin/policies").status == 403)
        let admin = try ConsoleWeekEndToEndTests.account(d, base: browser.base, name: "wang.fang", role: "admin")
        let offices = try admin.get("/admin/offices")
        #expect(offices.status == 200 && offices.body.contains("金山警务室") && offices.body.contains("新华警务室"))
        #expect(offices.body.contains("周一 09:00-12:00 14:00-18:00"), "hours in Chinese: \(offices)")
        #expect(offices.body.contains("mediationctl office --help"), "\(offices)")
        let policies = try admin.get("/admin/policies")
        #expect(policies.status == 200 && policies.body.contains("standard"), "\(policies)")
        #expect(policies.body.contains("法制民警") || policies.body.contains("律师"), "roles in Chinese: \(policies)")
        #expect(!policies.body.contains(">lawyer<"), "\(policies)")
    }
}
