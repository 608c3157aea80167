import Foundation
import Testing

/// A person's own page from their notice (issue 17, item 3): signed and expiring, no sign-in; the session in their
/// zone, the room from 15 minutes before the start, an expert's accept/decline through the store's rsvp (audited);
/// forged, altered or expired links are 404; the notices carry the page.
@Suite(.serialized) struct PersonalPageEndToEndTests {
    @Test func anExpertAnswersFromTheirPageAndAForgedOrExpiredLinkIsNotThere() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("personal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let secret = scratch.appendingPathComponent("jitsi.secret").path
        try (String(repeating: "s3cret-", count: 6) + "\n").write(toFile: secret, atomically: true, encoding: .utf8)
        let d = try DaemonUnderTest(
            extraYAML: """
                web:
                  listen: 127.0.0.1:0
                  public_url: https://mediation.example.gov.cn
                rooms:
                  provider: jitsi
                  jitsi:
                    domain: meet.example.org
                    app_id: mediation
                    secret_file: \(secret)
                """, movableClock: true)
        try d.start()
        var base: String?
        for _ in 0..<500 {
            if let m = d.log().firstMatch(of: #/http://127\.0\.0\.1:([0-9]+)/#), m.1 != "0" {
                base = "http://127.0.0.1:\(m.1)"
                break
            }
            usleep(20_000)
        }
        let address = try #require(base)
        let page = ConsoleHTTPEndToEndTests.Browser(base: address, folder: scratch)
        try addSampleOffices(d)
        #expect(try d.ctl("expert", "import", Repo.sampleRoster).status == 0)
        #expect(
            try d.ctl("dispute", "open", "--office", "jinshan", "--title", "楼道堆物", "--category", "neighbour").status
                == 0)
        let list = try #require(try d.json("dispute", "list") as? [String: Any])
        let number = try #require((list["disputes"] as? [[String: Any]])?.first?["number"] as? String)
        #expect(
            try d.ctl("party", "add", number, "--name", "张伟", "--side", "applicant", "--email", "zw@example.org").status
                == 0)
        _ = try SessionEndToEndTests().find(d, number)
        let booked = try #require(try d.json("session", "book", number, "--option", "1") as? [String: Any])
        let id = try #require(booked["id"] as? Int)
        let startText = try #require(booked["start"] as? String)
        let endText = try #require(booked["end"] as? String)
        let start = try #require(ISO8601DateFormatter().date(from: startText))
        let end = try #require(ISO8601DateFormatter().date(from: endText))

        // Staff see each person's page; it is on the public address, signed.
        let links = try #require(try d.json("session", "links", String(id)) as? [String: Any])
        let experts = try #require(links["links"] as? [[String: Any]])
        let expert = try #require(experts.first)
        let expertId = try #require(expert["expert"] as? Int)
        let expertPage = try #require(expert["page"] as? String)
        #expect(expertPage.hasPrefix("https://mediation.example.gov.cn/p/"), "\(expertPage)")
        let path = String(expertPage.dropFirst("https://mediation.example.gov.cn".count))
        let parties = try #require(links["parties"] as? [[String: Any]])
        let partyPage = try #require(parties.first?["page"] as? String)
        let partyPath = String(partyPage.dropFirst("https://mediation.example.gov.cn".count))

        // Each notice carries its recipient's own page, on the public address (as the outbox renders them).
        let preview = try d.ctl("outbox", "preview", String(id))
        #expect(preview.status == 0 && preview.stdout.contains(expertPage), "\(preview)")
        #expect(preview.stdout.contains(partyPage), "\(preview)")

        // The expert's page: their session in Chinese, accept and decline, the room not yet open.
        let shown = try page.get(path)
        #expect(shown.status == 200 && shown.headers["cache-control"] == "no-store", "\(shown)")
        #expect(shown.body.contains("id=\"accept\"") && shown.body.contains("id=\"decline\""), "\(shown)")
        #expect(shown.body.contains(number) && shown.body.contains("已预约") && shown.body.contains("id=\"room-from\""))
        #expect(!shown.body.contains("id=\"room\""), "no room link before 15 minutes ahead")
        // The party's page: no answer to give.
        let party = try page.get(partyPath)
        #expect(party.status == 200 && party.body.contains("张伟") && !party.body.contains("id=\"decline\""), "\(party)")
        #expect(try page.post(partyPath + "/rsvp", [("answer", "declined")]).status == 400)

        // Declined from the page: recorded as rsvp records it, audited under the expert's name.
        let declined = try page.post(path + "/rsvp", [("answer", "declined")])
        #expect(declined.status == 303 && declined.location == path + "?answered=declined", "\(declined)")
        let session = try #require(try d.json("session", "show", String(id)) as? [String: Any])
        let seat = (session["panel"] as? [[String: Any]])?.first { $0["expert"] as? Int == expertId }
        #expect(seat?["invitation"] as? String == "declined", "\(session)")
        let audit = try d.ctl("audit", "list", "--limit", "20").stdout
        #expect(audit.contains("session.rsvp") && audit.contains("personal link"), "\(audit)")
        #expect(try page.get(path + "?answered=declined").body.contains("已记录：您不能参加"))

        // Forged or altered (any last character, whose low bits the bytes do not use, included): 404.
        for c in ["A", "B", "C", "D", "Q", "g", "w"] where String(path.last ?? " ") != c {
            #expect(try page.get(String(path.dropLast()) + c).status == 404, "\(c)")
        }
        #expect(try page.get(String(path.dropLast()) + (path.last == "A" ? "B" : "A")).status == 404)
        #expect(try page.get("/p/MTIzLmUxLjk5OTk5OTk5OTk.AAAA").status == 404)
        #expect(try page.post(String(path.dropLast(2)) + "xx/rsvp", [("answer", "accepted")]).status == 404)

        // 10 minutes before the start the room's own link is there; after 7 days past the end, nothing is.
        try d.setClock(to: start.addingTimeInterval(-600))
        let near = try page.get(partyPath)
        #expect(near.body.contains("id=\"room\"") && near.body.contains("https://meet.example.org/"), "\(near)")
        try d.setClock(to: end.addingTimeInterval(7 * 86400 + 60))
        #expect(try page.get(path).status == 404)
        #expect(try page.get(partyPath).status == 404)

        #expect(d.stop() == 0)
    }
}
