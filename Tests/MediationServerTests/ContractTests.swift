import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MediationAPI
import MediationCore
import MediationStore
import Testing

@testable import MediationServer

/// openapi.yaml says what the daemon accepts: what it refuses is 400 naming the parameter or field, before anything
/// reads the request; its limits are the numbers Core's own validation uses.
@Suite struct ContractTests {
    let contract: ContractValidator

    init() throws { contract = try ContractValidator(document: openAPIDocument) }

    /// The schema of a JSON body's field (`"elements.scale"`) or, with `parameter:`, of a parameter.
    func schema(_ operation: String, field: String) throws -> ContractValidator.Schema {
        var schema = try #require(contract.operations[operation]?.json, "\(operation) takes no JSON body")
        for name in field.split(separator: ".") {
            switch schema {
            case .object(let properties, _, _, _): schema = try #require(properties[String(name)], "\(field)")
            case .array(let items?, _, _): schema = items
            default: Issue.record("\(operation) \(field): not an object at \(name)")
            }
        }
        return schema
    }

    func parameter(_ operation: String, _ name: String) throws -> ContractValidator.Schema {
        let op = try #require(contract.operations[operation])
        return try #require((op.path + op.query).first { $0.name == name }?.schema, "\(operation) \(name)")
    }

    func maxLength(_ schema: ContractValidator.Schema) -> Int? {
        if case .string(let rule) = schema { return rule.maxLength }
        return nil
    }

    func range(_ schema: ContractValidator.Schema) -> ClosedRange<Int64>? {
        guard case .integer(let min?, let max?) = schema else { return nil }
        return min...max
    }

    func maxItems(_ schema: ContractValidator.Schema) -> Int? {
        if case .array(_, _, let max) = schema { return max }
        return nil
    }

    @Test func theDocumentsLimitsAreTheCodesLimits() throws {
        func ints(_ r: ClosedRange<Int>) -> ClosedRange<Int64> { Int64(r.lowerBound)...Int64(r.upperBound) }
        #expect(maxLength(try schema("createExpert", field: "name")) == InputLimits.nameLength)
        #expect(maxLength(try schema("addParty", field: "name")) == InputLimits.nameLength)
        #expect(maxLength(try schema("addParty", field: "organisation")) == InputLimits.organisationLength)
        #expect(maxLength(try schema("addParty", field: "language")) == InputLimits.languageLength)
        #expect(maxLength(try schema("openDispute", field: "title")) == InputLimits.titleLength)
        for element in ["cause", "location", "nature", "involved", "development"] {
            #expect(maxLength(try schema("openDispute", field: "elements.\(element)")) == InputLimits.elementLength)
        }
        #expect(range(try schema("openDispute", field: "elements.scale")) == ints(InputLimits.scale))
        #expect(maxLength(try schema("setPolicy", field: "description")) == InputLimits.policyDescriptionLength)
        for (op, field) in [
            ("closeDispute", "reason"), ("setDisputeRisk", "reason"), ("openDispute", "riskReason"),
            ("addConflict", "reason"), ("amendOutcome", "reason"), ("findSlots", "outsideHoursReason"),
        ] {
            #expect(maxLength(try schema(op, field: field)) == InputLimits.reasonLength, "\(op) \(field)")
        }
        #expect(maxLength(try parameter("removeConflict", "reason")) == InputLimits.reasonLength)
        #expect(maxItems(try schema("setPolicy", field: "requirements")) == InputLimits.seatsPerPolicy)
        for op in ["createExpert", "updateExpert"] {
            #expect(range(try schema(op, field: "maxSessionsPerDay")) == ints(InputLimits.sessionsPerDay))
            #expect(range(try schema(op, field: "maxSessionsPerWeek")) == ints(InputLimits.sessionsPerWeek))
        }
        for op in ["createOffice", "updateOffice"] {
            #expect(range(try schema(op, field: "defaultSessionMinutes")) == ints(InputLimits.defaultSessionMinutes))
        }
        for op in ["findSlots", "bookSession"] {
            #expect(
                range(try schema(op, field: "durationMinutes")) == 1...Int64(SlotFinder.maximumDurationMinutes))
        }
        #expect(range(try parameter("listAudit", "limit")) == ints(InputLimits.listLimit))
        #expect(range(try parameter("listOutbox", "limit")) == ints(InputLimits.listLimit))
    }

    /// The patterns say what Core reads: each example the document's own descriptions give passes its pattern,
    /// and Core reads it.
    @Test func theDocumentsFormsAreWhatCoreReads() throws {
        let today = LocalDate(year: 2026, month: 12, day: 7)
        guard case .string(let momentRule) = try parameter("getAvailability", "from"),
            case .string(let dayRule) = try parameter("outcomesReport", "from"),
            case .string(let startRule) = try schema("rescheduleSession", field: "start"),
            let moment = momentRule.pattern, let day = dayRule.pattern, let start = startRule.pattern
        else { throw ContractError("no patterns") }
        let moments = [
            "2026-12-09", "2026-12-09 14:30", "2026/12/9 14:30", "2026.12.9", "12月9日 14:30", "2026年12月9日 周三 14:30",
            "14:30", "2026-12-09T14:30+08:00", "2026-12-09T14:30:00Z", "2026-12-9 (周三) 0930",
        ]
        for text in moments {
            #expect(moment.matches(text), "\(text)")
            let reading = TimeText.read(text, today: today)
            #expect(![.unreadable, .ambiguous].contains(reading), "\(text): \(reading)")
        }
        for text in ["12/9", "soon", "2026-13-01", "2026-12-09 25:00", "2026-12-09\n", " 2026-12-09", "1899-12-31"] {
            #expect(!moment.matches(text), "\(text)")
        }
        for text in ["2026-12-09", "2026/12/9", "2026-12-9", "12月9日", "2026年12月9日"] {
            #expect(day.matches(text), "\(text)")
            #expect(throws: Never.self) { try TimeText.day(text, field: "day", today: today) }
        }
        #expect(!day.matches("2026-12-09 14:30"))
        #expect(start.matches("2026-12-09 14:30") && !start.matches("2026-12-09"))
        // A mobile as the contract writes it is one Core reads, and the other way round for the usual forms.
        guard case .string(let mobileRule) = try schema("addParty", field: "mobile"), let mobile = mobileRule.pattern
        else { throw ContractError("no mobile pattern") }
        for text in ["13800138000", "138 0013 8000", "138-0013-8000", "+86 13800138000", "+4915112345678", ""] {
            #expect(mobile.matches(text), "\(text)")
            #expect(text.isEmpty || Contact.normalizeMobile(text) != nil, "\(text)")
        }
        for text in ["not-a-phone", "1380013800", "+861380013800"] {
            #expect(!mobile.matches(text) && Contact.normalizeMobile(text) == nil, "\(text)")
        }
    }

    /// The issue's cases: limits the document stated were not enforced, and a bad path parameter blamed the body.
    @Test func requestsOutsideTheContractAre400NamingWhatIsWrong() async throws {
        let db = try AppDatabase.inMemory()
        let app = Application(router: try MediationServer.router(db: db, policy: policy(), info: ServerInfo()))
        try await app.test(.router) { base in
            let client = Client(base: base)
            for limit in ["0", "10001", "-1", "many"] {
                let reply = try await client.send(.get, "/v1/outbox?limit=\(limit)")
                #expect(reply.status == .badRequest, "limit=\(limit): \(reply.status)")
                #expect(reply.message().contains("query parameter 'limit'"), "\(reply.message())")
            }
            #expect(try await client.send(.get, "/v1/outbox?limit=10000").status == .ok)

            let export = try await client.send(.get, "/v1/export/x?from=2026-01-01&to=2026-12-31")
            #expect(export.status == .badRequest)
            #expect(export.message().contains("path parameter 'kind' is 'x'"), "\(export.message())")
            #expect(export.message().contains("disputes, sessions, outcomes"))
            #expect(!export.message().contains("body"))

            let far = String(repeating: "d", count: 5000)
            let backup = try await client.send(.post, "/v1/backup?destination=\(far)")
            #expect(backup.status == .badRequest)
            #expect(backup.message().contains("query parameter 'destination' is 5000 characters long; keep it to 4096"))
            let status = try await client.send(.get, "/v1/status").json()
            #expect(status["lastBackup"] == nil, "nothing recorded: \(status)")

            let office = #"{"id": "jinshan", "name": "金山\u0000", "timeZone": "Asia/Shanghai"}"#
            let refused = try await client.send(.post, "/v1/offices", json: office)
            #expect(refused.status == .badRequest)
            #expect(refused.message().contains("field 'name'"), "\(refused.message())")
            let null = try await client.send(.post, "/v1/offices", json: #"{"id": "jinshan", "name": null}"#)
            #expect(null.status == .badRequest && null.message().contains("field 'name' should be a string"))
            let several = try await client.send(
                .post, "/v1/offices",
                json:
                    #"{"id": "Jin Shan", "name": " ", "defaultSessionMinutes": 5, "workingHours": [{"weekday": "someday", "start": "9:00", "end": "24:00"}]}"#
            )
            #expect(several.status == .badRequest)
            let details = try several.error().details
            for field in [
                "'id'", "'name'", "'defaultSessionMinutes'", "'workingHours[0].weekday'", "'workingHours[0].start'",
            ] {
                #expect(details.contains { $0.contains(field) }, "\(field) in \(details)")
            }
            #expect(!details.contains { $0.contains("workingHours[0].end") }, "24:00 is a valid end")
            #expect(try await db.offices().isEmpty)
        }
    }
}

struct ContractError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The document's patterns for words people type allow every word Core reads (any case, the Chinese names): a
/// clerk's `--risk 高` or `--role 律师` is never refused by the contract (it was, for a while, with `HIGH` and 高).
@Suite struct ContractWordsTests {
    let contract: ContractValidator

    init() throws { contract = try ContractValidator(document: openAPIDocument) }

    func pattern(_ operation: String, field: String? = nil, query: String? = nil) throws -> ContractValidator.Pattern {
        let op = try #require(contract.operations[operation])
        var schema: ContractValidator.Schema
        if let query {
            schema = try #require(op.query.first { $0.name == query }?.schema)
        } else {
            schema = try #require(op.json)
            for name in (field ?? "").split(separator: ".") {
                guard case .object(let properties, _, _, _) = schema else { break }
                schema = try #require(properties[String(name)], "\(operation) \(name)")
            }
        }
        guard case .string(let rule) = schema, let pattern = rule.pattern, rule.readByCore else {
            Issue.record("\(operation) \(field ?? query ?? ""): not text Core reads")
            throw CancellationError()
        }
        return pattern
    }

    /// Each word is read by Core and allowed by the pattern; each wrong word by neither.
    func expect(
        _ pattern: ContractValidator.Pattern, _ words: [String], wrong: [String], read: (String) -> Bool
    ) {
        for word in words + words.map({ $0.uppercased() }) + words.map({ " \($0) " }) {
            #expect(read(word), "Core reads '\(word)'")
            #expect(pattern.matches(word), "the document allows '\(word)'")
        }
        for word in wrong {
            #expect(!read(word), "Core refuses '\(word)'")
            #expect(!pattern.matches(word), "the document refuses '\(word)'")
        }
    }

    @Test func everyWordCoreReadsIsAllowed() throws {
        expect(
            try pattern("listDisputes", query: "risk"),
            RiskLevel.allCases.map(\.rawValue) + ["低", "中", "中等", "高", "极高", "严重", "紧急", "高风险"],
            wrong: ["huge", "很高", ""], read: { RiskLevel(parsing: $0) != nil })
        expect(
            try pattern("listExperts", query: "role"),
            ExpertRole.allCases.map(\.rawValue) + [
                "legal-officer", "community staff", "法制民警", "民警", "律师", "退休干部", "综治专干",
            ],
            wrong: ["judge", "法官"], read: { ExpertRole(parsing: $0) != nil })
        expect(
            try pattern("addParty", field: "side"),
            PartySide.allCases.map(\.rawValue) + ["申请人", "被申请人", "其他", "申请方", "对方", "第三方"],
            wrong: ["judge", "证人"], read: { PartySide(parsing: $0) != nil })
        expect(
            try pattern("recordOutcome", field: "result"),
            OutcomeResult.allCases.map(\.rawValue) + OutcomeResult.allCases.map(\.chinese) + ["partial-agreement"],
            wrong: ["settled", "和解"], read: { OutcomeResult(parsing: $0) != nil })
        expect(
            try pattern("recordFollowUp", field: "result"),
            FollowUpResult.allCases.map(\.rawValue) + ["稳定", "反复", "升级", "relapse", "激化"],
            wrong: ["fine"], read: { FollowUpResult(parsing: $0) != nil })
        expect(
            try pattern("recordFollowUp", field: "kind"),
            EscalationKind.allCases.map(\.rawValue) + ["民转刑", "刑事", "暴力", "上访", "信访", "criminal_case"],
            wrong: ["riot"], read: { EscalationKind(parsing: $0) != nil })
    }

    /// Core reads a wrong word in its own words, so the contract hands it on; an empty value it refuses itself,
    /// since the daemon would read `?risk=` as no risk at all.
    @Test func wrongWordsGoToCoreAndEmptyOnesAreRefusedHere() throws {
        #expect(try contract.check("listDisputes", path: [:], query: "risk=huge", body: nil).count == 1)
        #expect(try contract.check("listDisputes", path: [:], query: "risk=%E9%AB%98", body: nil).isEmpty)
        for query in ["risk=", "risk=%20%20", "since="] {
            #expect(throws: MediationError.self, "\(query)") {
                try contract.check(
                    query.hasPrefix("since") ? "listAudit" : "listDisputes", path: [:], query: query, body: nil)
            }
        }
    }
}
