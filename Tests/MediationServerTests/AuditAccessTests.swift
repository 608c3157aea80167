import Foundation
import GRDB
import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MediationCore
import NIOCore
import Testing

@testable import MediationServer
@testable import MediationStore

// Driven by the routes the router serves (RouteTableTests keeps them equal to openapi.yaml), so a new route is covered
// by the access tests at once, and the audit test fails until it has a request for it.

private let admin = root

private func staffPeer() throws -> String { "1 \(try unknownUID(54401)) \(try gid(of: "staff"))" }
private func viewerPeer() throws -> String { "1 \(try unknownUID(54402)) \(try gid(of: "nogroup"))" }
private func strangerPeer() throws -> String {
    try #require(getgrgid(54403) == nil)
    return "1 \(try unknownUID(54403)) 54403"
}

/// A router over a fresh store whose clock stands still on Tuesday 2026-12-01 08:00 in Shanghai.
private func withRouter(
    privacy: PrivacyPolicy = PrivacyPolicy(),
    _ body: @Sendable @escaping (Client, AppDatabase, FixedWallClock) async throws -> Void
) async throws {
    let clock = FixedWallClock(Date(timeIntervalSince1970: 1_796_083_200))  // 2026-12-01T00:00:00Z
    let db = try AppDatabase.inMemory(clock: clock)
    var info = ServerInfo(
        clock: clock, notices: AcceptingTestChannel(), warnings: StoreWarnings(db: db), privacy: privacy)
    info.webBase = "https://mediation.example.gov.cn"
    let app = Application(router: try MediationServer.router(db: db, policy: policy(), info: info))
    try await app.test(.router) { client in try await body(Client(base: client), db, clock) }
}

/// A dispatcher whose channels accept every test message.
private struct AcceptingTestChannel: NoticeDispatch {
    func outboxChanged() {}
    func changeStarted() {}
    func changeEnded() {}
    func preview(session: Int64) async throws -> [NoticePreview] { [] }
    func sendTest(channel: String, to: String) async throws -> ChannelTestAnswer {
        ChannelTestAnswer(result: "sent", detail: "accepted by the test channel")
    }
}

/// The warning rules evaluated on the store, with the default settings.
private struct StoreWarnings: WarningCheck {
    let db: AppDatabase
    func checkNow() async throws -> [EarlyWarning] { try await db.checkWarnings(settings: WarningSettings()) }
}

/// The route template a concrete path answers on, most specific first ("import" before "{expert}").
private func template(_ path: String) -> String? {
    let parts = path.split(separator: "?").first.map { $0.split(separator: "/") } ?? []
    return servedRoutes.filter { route in
        let pattern = route.path.split(separator: "/")
        return pattern.count == parts.count
            && zip(pattern, parts).allSatisfy { p, s in p == s || (p.hasPrefix("{") && p.hasSuffix("}")) }
    }.min { a, b in a.path.filter { $0 == "{" }.count < b.path.filter { $0 == "{" }.count }?.path
}

/// Every (method, template) that changes something, from the route table.
private var changingRoutes: Set<String> {
    Set(servedRoutes.flatMap { route in route.methods.filter { $0 != "GET" }.map { "\($0) \(route.path)" } })
}

/// Routes that take a body for a question and change nothing a person made: a slot search.
private let questions: Set<String> = ["POST /v1/disputes/{dispute}/slots"]

/// The row count of every table, to show that nothing was written.
private func snapshot(_ db: AppDatabase) async throws -> [String: Int] {
    try await db.writer.read { d in
        var counts: [String: Int] = [:]
        for table in try String.fetchAll(
            d, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        {
            counts[table] = try Int.fetchOne(d, sql: "SELECT count(*) FROM \"\(table)\"") ?? 0
        }
        return counts
    }
}

private func auditCount(_ db: AppDatabase) async throws -> Int {
    try await db.writer.read { d in try Int.fetchOne(d, sql: "SELECT count(*) FROM audit") ?? 0 }
}

/// A concrete path for a template, for requests that are refused before anything looks at the values.
private func concrete(_ template: String) -> String {
    template.replacingOccurrences(of: "{channel}", with: "maildir").replacingOccurrences(
        of: "{kind}", with: "disputes"
    ).replacingOccurrences(of: "{dispute}", with: "JS-2026-0001").replacingOccurrences(
        of: "{office}", with: "jinshan"
    ).replacingOccurrences(of: "{expert}", with: "1").replacingOccurrences(of: "{policy}", with: "standard")
        .replacingOccurrences(of: "{session}", with: "1").replacingOccurrences(of: "{party}", with: "1")
        .replacingOccurrences(of: "{span}", with: "1").replacingOccurrences(of: "{message}", with: "1")
        .replacingOccurrences(of: "{followup}", with: "1")
}

private let officeJSON = """
    {"id": "jinshan", "name": "金山警务室", "disputePrefix": "JS",
     "workingHours": [{"weekday": "mon", "start": "08:00", "end": "18:00"}]}
    """

private func expertJSON(_ name: String, _ role: String, _ mobile: String) -> String {
    """
    {"name": "\(name)", "role": "\(role)", "offices": ["jinshan"], "mobile": "\(mobile)",
     "weeklyHours": [{"weekday": "mon", "start": "09:00", "end": "12:00"}]}
    """
}

/// Stores an office and a dispute with a party as the admin, for the refusal tests to aim at.
private func seed(_ client: Client) async throws {
    #expect(try await client.send(.post, "/v1/offices", as: admin, json: officeJSON).status == .created)
    #expect(
        try await client.send(.post, "/v1/experts", as: admin, json: expertJSON("王芳", "lawyer", "13900000002")).status
            == .created)
    let dispute = """
        {"office": "jinshan", "title": "邻里噪音", "category": "noise",
         "parties": [{"name": "李明", "side": "applicant", "mobile": "13700000001", "idCard": "11010519491231002X"}]}
        """
    #expect(try await client.send(.post, "/v1/disputes", as: admin, json: dispute).status == .created)
}

@Suite struct AccessByRouteTests {
    @Test func aViewerCannotChangeAnythingOnAnyRoute() async throws {
        let viewer = try viewerPeer()
        try await withRouter { client, db, _ in
            try await seed(client)
            let before = try await snapshot(db)
            #expect(changingRoutes.count > 30)
            for route in changingRoutes.sorted() {
                let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
                let method = HTTPRequest.Method(rawValue: parts[0])!
                let reply = try await client.send(method, concrete(parts[1]), as: viewer, json: "{}")
                #expect(reply.status == .forbidden, "\(route) answered \(reply.status): \(reply.text)")
                #expect(reply.message().contains("is viewer"), "\(route): \(reply.message())")
            }
            #expect(try await snapshot(db) == before)
            // Reading still works.
            #expect(try await client.send(.get, "/v1/disputes/JS-2026-0001", as: viewer).status == .ok)
        }
    }

    @Test func aUIDInNoGroupIsRefusedOnEveryRoute() async throws {
        let stranger = try strangerPeer()
        try await withRouter { client, db, _ in
            try await seed(client)
            let before = try await snapshot(db)
            var checked = 0
            for route in servedRoutes {
                for method in route.methods + ["HEAD"] where method != "HEAD" || route.methods.contains("GET") {
                    let reply = try await client.send(
                        HTTPRequest.Method(rawValue: method)!, concrete(route.path), as: stranger,
                        json: method == "GET" || method == "HEAD" ? nil : "{}")
                    #expect(reply.status == .forbidden, "\(method) \(route.path) answered \(reply.status)")
                    if method != "HEAD" {
                        #expect(reply.message().contains("uid 54403 may not use mediationd"), "\(reply.message())")
                    }
                    checked += 1
                }
            }
            #expect(checked > 70)
            #expect(try await snapshot(db) == before)
        }
    }

    @Test func staffReadTheAuditTrailViewersDoNot() async throws {
        let (staff, viewer) = (try staffPeer(), try viewerPeer())
        try await withRouter { client, _, _ in
            try await seed(client)
            let refused = try await client.send(.get, "/v1/audit", as: viewer)
            #expect(refused.status == .forbidden)
            #expect(refused.message().contains("needs the staff role"))
            let reply = try await client.send(.get, "/v1/audit?actor=root&target=JS-2026", as: staff)
            #expect(reply.status == .ok)
            let entries = try #require(try reply.json()["entries"] as? [[String: Any]])
            #expect(entries.map { $0["action"] as? String } == ["dispute.open"])
            #expect(entries.first?["user"] as? String == "root")
            let all = try #require(try await client.send(.get, "/v1/audit", as: staff).json()["entries"] as? [Any])
            #expect(all.count == 3)
            let since = try await client.send(.get, "/v1/audit?since=2026-12-02", as: staff)
            #expect((try since.json()["entries"] as? [Any])?.isEmpty == true)
            let bad = try await client.send(.get, "/v1/audit?since=yesterday", as: staff)
            #expect(bad.status == .badRequest)
            #expect(bad.message().contains("since"))
            #expect(try await client.send(.get, "/v1/audit?limit=0", as: staff).status == .badRequest)
            // Retention removes personal data for good: admins only.
            let retention = try await client.send(.post, "/v1/retention/run", as: staff, json: "{}")
            #expect(retention.status == .forbidden)
            #expect(retention.message().contains("needs the admin role"))
        }
    }
}

@Suite struct AuditByRouteTests {
    /// One request per changing route (and more where a scenario needs them), in an order that makes each one
    /// succeed; every one must leave exactly one audit row naming its caller, and every changing route must be
    /// among them.
    @Test func everyChangeThroughTheAPILeavesOneAuditRowNamingTheCaller() async throws {
        let staff = try staffPeer()
        let staffUID: Int64 = 54401
        try await withRouter { client, db, clock in
            var covered: Set<String> = []
            @discardableResult
            func change(
                _ method: HTTPRequest.Method, _ path: String, as caller: String? = nil, json: String? = nil,
                csv: String? = nil, action: String, sourceLocation: SourceLocation = #_sourceLocation
            ) async throws -> Reply {
                let who = caller ?? staff
                let before = try await auditCount(db)
                let reply = try await client.send(method, path, as: who, json: json, csv: csv)
                #expect(
                    reply.status.code < 300, "\(method) \(path): \(reply.status) \(reply.text)",
                    sourceLocation: sourceLocation)
                #expect(try await auditCount(db) == before + 1, "\(method) \(path)", sourceLocation: sourceLocation)
                let row = try #require(try await db.auditEntries(AuditFilter(limit: 1)).first)
                #expect(row.action == action, "\(method) \(path)", sourceLocation: sourceLocation)
                if who == admin {
                    #expect(row.uid == 0 && row.user == "root" && row.role == "admin", sourceLocation: sourceLocation)
                } else {
                    #expect(Int64(row.uid) == staffUID && row.role == "staff", sourceLocation: sourceLocation)
                }
                #expect(!row.target.isEmpty && !row.summary.isEmpty, sourceLocation: sourceLocation)
                if let t = template(path) { covered.insert("\(method.rawValue) \(t)") }
                return reply
            }
            func id(_ reply: Reply) throws -> Int64 {
                try #require((try reply.json()["id"] as? NSNumber)?.int64Value, "no id in \(reply.text)")
            }

            try await change(.post, "/v1/offices", as: admin, json: officeJSON, action: "office.add")
            try await change(
                .patch, "/v1/offices/jinshan", as: admin, json: #"{"address": "金山路 2 号"}"#, action: "office.update")
            try await change(
                .put, "/v1/policies/standard", as: admin,
                json: #"{"requirements": ["legal_officer", "lawyer", "community_staff"]}"#, action: "policy.set")
            for (name, role, mobile) in [
                ("张警官", "legal_officer", "13900000001"), ("王芳", "lawyer", "13900000002"),
                ("赵社工", "community_staff", "13900000003"), ("钱社工", "community_staff", "13900000004"),
            ] {
                try await change(.post, "/v1/experts", json: expertJSON(name, role, mobile), action: "expert.add")
            }
            try await change(
                .post, "/v1/experts/import", csv: "name,role,mobile,offices\n孙律师,lawyer,13900000005,jinshan\n",
                action: "expert.import")
            try await change(
                .patch, "/v1/experts/13900000005", json: #"{"notes": "兼职"}"#, action: "expert.update")
            try await change(.post, "/v1/experts/13900000005/deactivate", action: "expert.deactivate")
            try await change(.post, "/v1/experts/13900000005/reactivate", action: "expert.reactivate")
            try await change(.post, "/v1/experts/13900000005/feed/reset", action: "expert.feed_reset")
            for (kind, noun) in [("time-off", "leave"), ("extra-availability", "extra")] {
                let span = try await change(
                    .post, "/v1/experts/13900000005/\(kind)", json: #"{"from": "2026-12-20", "to": "2026-12-21"}"#,
                    action: "expert.\(noun).add")
                try await change(
                    .delete, "/v1/experts/13900000005/\(kind)/\(try id(span))", action: "expert.\(noun).remove")
            }
            let dispute = """
                {"office": "jinshan", "title": "邻里噪音", "category": "noise",
                 "parties": [{"name": "李明", "side": "applicant", "mobile": "13700000001"}]}
                """
            try await change(.post, "/v1/disputes", json: dispute, action: "dispute.open")
            let number = "JS-2026-0001"
            try await change(
                .patch, "/v1/disputes/\(number)", json: #"{"title": "邻里噪音纠纷"}"#, action: "dispute.update")
            try await change(
                .post, "/v1/disputes/\(number)/risk", json: #"{"level": "medium", "reason": "推搡"}"#,
                action: "dispute.risk")
            let party = try await change(
                .post, "/v1/disputes/\(number)/parties",
                json: #"{"name": "王强", "side": "respondent", "organisation": "金山物业", "mobile": "13700000002"}"#,
                action: "party.add")
            let partyID = try id(party)
            try await change(
                .patch, "/v1/disputes/\(number)/parties/\(partyID)", json: #"{"language": "上海话"}"#,
                action: "party.update")
            let conflict = try await change(
                .post, "/v1/conflicts", json: #"{"expert": "13900000005", "organisation": "金山物业"}"#,
                action: "conflict.add")
            try await change(
                .delete, "/v1/conflicts/\(try id(conflict))?reason=mistaken", action: "conflict.remove")
            try await change(
                .post, "/v1/conflicts", json: #"{"expert": "13900000005", "organisation": "金山物业"}"#,
                action: "conflict.add")
            try await change(.delete, "/v1/disputes/\(number)/parties/\(partyID)", action: "party.remove")
            try await change(
                .post, "/v1/disputes/\(number)/escalations", json: #"{"kind": "petition", "date": "2026-11-30"}"#,
                action: "escalation.add")

            // A slot search is a question: it answers without an audit row.
            let before = try await auditCount(db)
            let slots = try await client.send(
                .post, "/v1/disputes/\(number)/slots", as: staff, json: #"{"from": "2026-12-07", "to": "2026-12-07"}"#)
            #expect(slots.status == .ok, "\(slots.text)")
            #expect(try await auditCount(db) == before)

            let booked = try await change(
                .post, "/v1/sessions",
                json: """
                    {"dispute": "\(number)", "start": "2026-12-07 10:00",
                     "panel": ["13900000001", "13900000002", "13900000003"]}
                    """, action: "session.book")
            let session = try id(booked)
            try await change(
                .post, "/v1/sessions/\(session)/reschedule", json: #"{"start": "2026-12-07 10:30"}"#,
                action: "session.reschedule")
            try await change(
                .post, "/v1/sessions/\(session)/rsvp", json: #"{"expert": "13900000002", "answer": "accepted"}"#,
                action: "session.rsvp")
            try await change(
                .post, "/v1/sessions/\(session)/replace", json: #"{"expert": "13900000003", "with": "13900000004"}"#,
                action: "session.replace")
            let outbox = try await client.send(.get, "/v1/outbox", as: staff).json()
            let message = try #require((outbox["messages"] as? [[String: Any]])?.first?["id"] as? NSNumber)
            try await change(.post, "/v1/outbox/\(message.int64Value)/retry", action: "outbox.retry")
            try await change(.post, "/v1/outbox/retry-dead", action: "outbox.retry-dead")
            // A session is started from half an hour before its start, 2026-12-07 10:30 in Shanghai.
            clock.set(Date(timeIntervalSince1970: 1_796_610_600))
            try await change(
                .post, "/v1/sessions/\(session)/status", json: #"{"status": "in_session"}"#, action: "session.status")
            try await change(
                .post, "/v1/sessions/\(session)/status", json: #"{"status": "ended"}"#, action: "session.status")
            try await change(
                .post, "/v1/sessions/\(session)/outcome",
                json: #"{"result": "agreement", "terms": "赔偿 100 元", "signed": true}"#, action: "outcome.record")
            clock.advance(by: 86400)
            let visits = try await client.send(.get, "/v1/followups?scope=open", as: staff).json()
            let visit = try #require((visits["followUps"] as? [[String: Any]])?.first?["id"] as? NSNumber)
            try await change(
                .post, "/v1/followups/\(visit.int64Value)/result", json: #"{"result": "stable"}"#,
                action: "followup.record")
            try await change(.post, "/v1/warnings/check", action: "warning.check")
            try await change(
                .patch, "/v1/sessions/\(session)/outcome", json: #"{"amount": "100", "reason": "金额漏填"}"#,
                action: "outcome.amend")
            try await change(
                .post, "/v1/sessions/\(session)/outcome/void", json: #"{"reason": "录错了案件"}"#, action: "outcome.void")
            try await change(
                .post, "/v1/sessions/\(session)/outcome",
                json: #"{"result": "agreement", "terms": "赔偿 100 元", "amount": "100", "signed": true}"#,
                action: "outcome.record")
            try await change(
                .post, "/v1/disputes/\(number)/close", json: #"{"reason": "协议履行"}"#, action: "dispute.close")
            try await change(
                .post, "/v1/disputes/\(number)/reopen", json: #"{"reason": "又吵"}"#, action: "dispute.reopen")
            let second = try await change(
                .post, "/v1/sessions",
                json: """
                    {"dispute": "\(number)", "start": "2026-12-14 10:00",
                     "panel": ["13900000001", "13900000002", "13900000003"]}
                    """, action: "session.book")
            try await change(
                .post, "/v1/sessions/\(try id(second))/cancel", json: #"{"reason": "专家出差"}"#,
                action: "session.cancel")
            try await change(
                .post, "/v1/channels/maildir/test", as: admin, json: #"{"to": "ops@example.cn"}"#,
                action: "channel.test")
            try await change(
                .post, "/v1/retention/run?dryRun=false", as: admin, action: "retention.run")
            try await change(.post, "/v1/backup", as: admin, action: "store.backup")
            // The web console's accounts (issue 16), administered through the socket.
            try await change(
                .post, "/v1/users", as: admin, json: #"{"name": "wang.li", "role": "staff", "offices": ["jinshan"]}"#,
                action: "user.add")
            try await change(
                .put, "/v1/users/wang.li/offices", as: admin, json: #"{"offices": ["jinshan"]}"#,
                action: "user.offices")
            try await change(.post, "/v1/users/wang.li/password", as: admin, action: "user.passwd")
            try await change(.post, "/v1/users/wang.li/disable", as: admin, action: "user.disable")
            try await change(
                .get, "/v1/disputes/\(number)?reveal=true", as: admin, action: "party.reveal")
            try await change(.get, "/v1/experts/13900000001?reveal=true", as: admin, action: "expert.reveal")

            let missing = changingRoutes.subtracting(questions).subtracting(covered)
            #expect(missing.isEmpty, "changing routes without an audited request here: \(missing.sorted())")

            // Refused and failed changes leave no row.
            let count = try await auditCount(db)
            for (method, path, json) in [
                (HTTPRequest.Method.post, "/v1/disputes/\(number)/risk", #"{"level": "nonsense", "reason": "x"}"#),
                (.post, "/v1/disputes/\(number)/reopen", #"{"reason": "already open"}"#),
                (.post, "/v1/offices", officeJSON),
                (.post, "/v1/sessions/999/cancel", #"{"reason": "x"}"#),
                (.delete, "/v1/disputes/\(number)/parties/999", nil),
            ] as [(HTTPRequest.Method, String, String?)] {
                let reply = try await client.send(method, path, as: staff, json: json)
                #expect(reply.status.code >= 400, "\(method) \(path) succeeded")
            }
            #expect(try await auditCount(db) == count)
        }
    }
}

@Suite struct PrivacyRouteTests {
    @Test func mobilesAndIDNumbersAreMaskedUnlessARevealRoleAsks() async throws {
        let staff = try staffPeer()
        let privacy = PrivacyPolicy()
        try await withRouter(privacy: privacy) { client, db, _ in
            try await seed(client)
            let shown = try await client.send(.get, "/v1/disputes/JS-2026-0001", as: staff).json()
            let party = try #require((shown["parties"] as? [[String: Any]])?.first)
            #expect(party["mobile"] as? String == "137****0001")
            #expect(party["idCard"] as? String == "1101**********002X")
            #expect(
                !String(decoding: try JSONSerialization.data(withJSONObject: shown), as: UTF8.self).contains(
                    "13700000001"))

            let before = try await auditCount(db)
            let refused = try await client.send(.get, "/v1/disputes/JS-2026-0001?reveal=true", as: staff)
            #expect(refused.status == .forbidden)
            #expect(refused.message().contains("privacy.reveal_roles"))
            #expect(refused.message().contains("you are staff"))
            #expect(try await auditCount(db) == before)

            let revealed = try await client.send(.get, "/v1/disputes/JS-2026-0001?reveal=true", as: admin).json()
            let full = try #require((revealed["parties"] as? [[String: Any]])?.first)
            #expect(full["mobile"] as? String == "13700000001")
            #expect(full["idCard"] as? String == "11010519491231002X")
            let row = try #require(try await db.auditEntries(AuditFilter(limit: 1)).first)
            #expect(row.action == "party.reveal" && row.target == "dispute JS-2026-0001" && row.user == "root")
            #expect(!row.summary.contains("13700000001"))

            // The roles that may reveal change at run time (a reload applies privacy.reveal_roles this way).
            privacy.update(revealRoles: [.admin, .staff], retentionMonths: 24)
            let now = try await client.send(.get, "/v1/disputes/JS-2026-0001?reveal=true", as: staff)
            #expect(now.status == .ok)
            #expect(try await db.auditEntries(AuditFilter(limit: 1)).first?.uid == 54401)

            // A new party is answered masked too.
            let added = try await client.send(
                .post, "/v1/disputes/JS-2026-0001/parties", as: staff,
                json: #"{"name": "王强", "side": "respondent", "mobile": "13700000002"}"#)
            #expect(try added.json()["mobile"] as? String == "137****0002")
        }
    }

    /// An expert's personal number is personal data too: masked for every role that does not ask, in the list,
    /// one expert, the roster export and every answer to a change; revealed by the same path and audit as parties'.
    @Test func expertsMobilesAreMaskedLikePartiesUnlessARevealRoleAsks() async throws {
        let staff = try staffPeer()
        let viewer = try viewerPeer()
        try await withRouter { client, db, _ in
            try await seed(client)
            let changed = try await client.send(
                .patch, "/v1/experts/13900000002", as: staff, json: #"{"dingtalkMobile": "13900000009"}"#)
            #expect(changed.status == .ok, "\(changed.text)")
            #expect(try changed.json()["mobile"] as? String == "139****0002")
            #expect(try changed.json()["dingtalkMobile"] as? String == "139****0009")
            for caller in [viewer, staff, admin] {
                let list = try await client.send(.get, "/v1/experts", as: caller)
                let first = try #require((try list.json()["experts"] as? [[String: Any]])?.first)
                #expect(first["mobile"] as? String == "139****0002")
                // Found by the full number, shown masked.
                let one = try await client.send(.get, "/v1/experts/13900000002", as: caller)
                #expect(try one.json()["mobile"] as? String == "139****0002")
                let roster = try await client.send(.get, "/v1/experts/export", as: caller)
                #expect(roster.status == .ok && roster.text.contains("139****0002"), "\(roster.text)")
                for reply in [list, one, roster] {
                    #expect(!reply.text.contains("13900000002") && !reply.text.contains("13900000009"), "\(reply.text)")
                }
            }

            // Refused to the roles outside privacy.reveal_roles, and a refusal leaves no row.
            let before = try await auditCount(db)
            for caller in [viewer, staff] {
                for path in [
                    "/v1/experts?reveal=true", "/v1/experts/13900000002?reveal=true", "/v1/experts/export?reveal=true",
                ] {
                    let refused = try await client.send(.get, path, as: caller)
                    #expect(refused.status == .forbidden, "\(path): \(refused.text)")
                    #expect(refused.message().contains("privacy.reveal_roles"))
                }
            }
            #expect(try await auditCount(db) == before)

            // An admin asks: full numbers, each reveal on the record without a number in it.
            let full = try await client.send(.get, "/v1/experts/13900000002?reveal=true", as: admin).json()
            #expect(full["mobile"] as? String == "13900000002" && full["dingtalkMobile"] as? String == "13900000009")
            var row = try #require(try await db.auditEntries(AuditFilter(limit: 1)).first)
            #expect(row.action == "expert.reveal" && row.target == "expert 1" && row.user == "root")
            #expect(row.summary == "full mobiles of 1 of 1 experts shown: expert 1")
            let list = try await client.send(.get, "/v1/experts?reveal=true", as: admin)
            #expect(list.text.contains("13900000002"))
            row = try #require(try await db.auditEntries(AuditFilter(limit: 1)).first)
            #expect(row.action == "expert.reveal" && row.target == "experts")
            let roster = try await client.send(.get, "/v1/experts/export?reveal=true", as: admin)
            #expect(roster.text.contains("13900000002"))
            row = try #require(try await db.auditEntries(AuditFilter(limit: 1)).first)
            #expect(row.action == "expert.reveal" && row.target == "roster export")
            #expect(
                try await db.auditEntries(AuditFilter(limit: 100)).allSatisfy { !$0.summary.contains("13900000002") })
        }
    }

    @Test func retentionThroughTheAPICountsThenRemoves() async throws {
        try await withRouter(privacy: PrivacyPolicy(revealRoles: [.admin], retentionMonths: 1)) { client, db, clock in
            try await seed(client)
            #expect(
                try await client.send(
                    .post, "/v1/disputes/JS-2026-0001/close", as: admin, json: #"{"reason": "done"}"#
                ).status == .ok)
            let early = try await client.send(.post, "/v1/retention/run?dryRun=true", as: admin).json()
            #expect(early["parties"] as? Int == 0)
            clock.advance(by: 40 * 86400)
            let before = try await auditCount(db)
            let dry = try await client.send(.post, "/v1/retention/run?dryRun=true", as: admin).json()
            #expect(dry["parties"] as? Int == 1 && dry["disputes"] as? Int == 1 && dry["dryRun"] as? Bool == true)
            #expect(try await auditCount(db) == before)
            // Without dryRun: a real run.
            let reply = try await client.send(.post, "/v1/retention/run", as: admin)
            #expect(reply.status == .ok, "\(reply.text)")
            let run = try reply.json()
            #expect(run["parties"] as? Int == 1 && run["months"] as? Int == 1)
            let shown = try await client.send(.get, "/v1/disputes/JS-2026-0001?reveal=true", as: admin).json()
            let party = try #require((shown["parties"] as? [[String: Any]])?.first)
            #expect(party["name"] as? String == "李明")
            #expect(party["mobile"] == nil && party["idCard"] == nil)
        }
    }
}
