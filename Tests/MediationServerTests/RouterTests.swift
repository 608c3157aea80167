import Foundation
import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MediationAPI
import MediationCore
import MediationServer
import MediationStore
import NIOCore
import Testing

// MARK: - The contract on disk

/// The repository root: three directories above this file (Tests/MediationServerTests/RouterTests.swift).
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

private func openAPIFile() throws -> String {
    try String(
        contentsOf: repositoryRoot.appendingPathComponent("Sources/MediationAPI/openapi.yaml"), encoding: .utf8)
}

/// The keys under `paths:` in openapi.yaml.
private func openAPIPaths() throws -> [String] {
    var paths: [String] = []
    var inPaths = false
    for line in try openAPIFile().split(separator: "\n", omittingEmptySubsequences: false) {
        if line == "paths:" {
            inPaths = true
            continue
        }
        guard inPaths else { continue }
        if let first = line.first, first != " " { break }  // the next top-level key
        if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
            paths.append(String(line.dropFirst(2).dropLast()))
        }
    }
    return paths
}

// MARK: - Callers

/// Unix groups of this machine, looked up rather than hard-coded.
func gid(of group: String) throws -> UInt32 {
    let entry = try #require(getgrnam(group), "group \(group) does not exist on this machine")
    return entry.pointee.gr_gid
}

/// A caller as "pid uid gid", the connection's credentials a test request is sent with.
private func peer(pid: Int32 = 1, uid: UInt32, gid: UInt32) -> String { "\(pid) \(uid) \(gid)" }

/// The credentials "pid uid gid" stands for (nil for anything else: a connection whose peer could not be read).
func credentials(_ caller: String?) -> PeerCredentials? {
    guard let parts = caller?.split(separator: " "), parts.count == 3, let pid = Int32(parts[0]),
        let uid = UInt32(parts[1]), let gid = UInt32(parts[2])
    else { return nil }
    return PeerCredentials(pid: pid, uid: uid, gid: gid)
}

let root = "1 0 0"
let staffGroup = "staff"
let viewerGroup = "nogroup"

/// A uid with no passwd entry, so only the primary gid of the header counts.
func unknownUID(_ uid: UInt32) throws -> UInt32 {
    try #require(getpwuid(uid) == nil, "uid \(uid) unexpectedly has a passwd entry")
    return uid
}

// MARK: - Driving the router

struct ErrorBody: Decodable {
    struct Inner: Decodable {
        var code: String
        var message: String
        var details: [String]
    }
    var error: Inner
}

struct Reply {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any], "not a JSON object: \(text)")
    }

    /// The error body's message, or the whole body when it is not one.
    func message() -> String {
        ((try? json())?["error"] as? [String: Any])?["message"] as? String ?? text
    }

    func error() throws -> ErrorBody.Inner {
        do { return try JSONDecoder().decode(ErrorBody.self, from: body).error } catch {
            Issue.record("not an error body (\(status)): \(text)")
            throw error
        }
    }
}

/// Sends requests through the router in process; every response is checked never to be a 500.
struct Client: Sendable {
    let base: any TestClientProtocol

    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ uri: String, as caller: String? = root, headers extra: HTTPFields = [:],
        json: String? = nil, csv: String? = nil, bytes: [UInt8]? = nil, contentType: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Reply {
        var headers = extra
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(string: json)
            headers[.contentType] = "application/json"
        } else if let csv {
            body = ByteBuffer(string: csv)
            headers[.contentType] = "text/csv"
        } else if let bytes {
            body = ByteBuffer(bytes: bytes)
        }
        if let contentType { headers[.contentType] = contentType }
        // As the socket does: the connection's peer is bound for its task, and each request's context reads it.
        let response = try await PeerCredentials.$connection.withValue(credentials(caller)) {
            try await base.execute(uri: uri, method: method, headers: headers, body: body) { $0 }
        }
        let reply = Reply(
            status: response.status, headers: response.headers, body: Data(response.body.readableBytesView))
        #expect(
            reply.status != .internalServerError, "\(method) \(uri) answered 500: \(reply.text)",
            sourceLocation: sourceLocation)
        return reply
    }
}

func policy() -> AccessPolicy {
    AccessPolicy(
        rules: AccessRules(adminGroups: [], staffGroups: [staffGroup], viewerGroups: [viewerGroup]), ownUID: 4242)
}

/// Runs `body` against a router over a fresh in-memory store.
private func withRouter(
    db: AppDatabase? = nil, _ body: @Sendable @escaping (Client, AppDatabase) async throws -> Void
) async throws {
    let db = try db ?? AppDatabase.inMemory()
    let app = Application(router: try MediationServer.router(db: db, policy: policy(), info: ServerInfo()))
    try await app.test(.router) { client in try await body(Client(base: client), db) }
}

private let officeJSON = """
    {"id": "jinshan", "name": "金山警务室", "timeZone": "Asia/Shanghai", "address": "金山路 1 号",
     "phone": "021-12345678", "workingHours": [{"weekday": "mon", "start": "09:00", "end": "12:00"},
     {"weekday": "wed", "start": "14:00", "end": "18:00"}], "defaultSessionMinutes": 60}
    """

private let expertJSON = """
    {"name": "王芳", "role": "律师", "offices": ["jinshan"], "mobile": "+86 138 0013 8000",
     "specialties": ["Family Law"], "weeklyHours": [{"weekday": "mon", "start": "09:00", "end": "12:00"}]}
    """

// MARK: - Tests

@Suite struct RouterAccessTests {
    @Test func healthAsRoot() async throws {
        try await withRouter { client, db in
            let reply = try await client.send(.get, "/v1/health", as: "77 0 0")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true)
            let json = try reply.json()
            #expect(json["status"] as? String == "ok")
            let version = try await db.schemaVersion()
            #expect(json["schemaVersion"] as? String == version)
            #expect(json["schemaVersion"] as? String == AppDatabase.latestSchemaVersion)
            #expect(json["databasePath"] as? String == db.path)
            let caller = try #require(json["caller"] as? [String: Any])
            #expect((caller["uid"] as? NSNumber)?.intValue == 0)
            #expect((caller["pid"] as? NSNumber)?.intValue == 77)
            #expect(caller["role"] as? String == "admin")
        }
    }

    @Test func healthReportsTheFilePath() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("router-tests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mediation.sqlite").path
        try await withRouter(db: try AppDatabase.open(path: path)) { client, _ in
            let json = try await client.send(.get, "/v1/health").json()
            #expect(json["databasePath"] as? String == path)
        }
    }

    @Test func theDaemonsOwnUIDIsAdmin() async throws {
        try await withRouter { client, _ in
            let uid = try unknownUID(4242)
            let reply = try await client.send(.get, "/v1/health", as: peer(uid: uid, gid: 4242))
            #expect(reply.status == .ok)
            let caller = try #require(try reply.json()["caller"] as? [String: Any])
            #expect((caller["uid"] as? NSNumber)?.intValue == 4242)
            #expect(caller["role"] as? String == "admin")
        }
    }

    @Test func aConnectionWithoutCredentialsIsRefused_andNoHeaderCanClaimThem() async throws {
        // The credentials come from the connection, never from the request: the header that once carried them
        // inside the daemon is now just a header, whoever sends it.
        let claim = HTTPField.Name("x-mediationd-peer")!
        try await withRouter { client, _ in
            for header in [nil, root, "77 0 0"] as [String?] {
                var headers = HTTPFields()
                if let header { headers[claim] = header }
                let reply = try await client.send(.get, "/v1/health", as: nil, headers: headers)
                #expect(reply.status == .forbidden, "header \(header ?? "nil")")
                #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true)
                let error = try reply.error()
                #expect(error.code == "forbidden")
                #expect(error.message.contains("credentials"))
            }
            let viewer = peer(uid: try unknownUID(54324), gid: try gid(of: viewerGroup))
            var headers = HTTPFields()
            headers[claim] = root
            let health = try await client.send(.get, "/v1/health", as: viewer, headers: headers)
            let caller = try #require(try health.json()["caller"] as? [String: Any])
            #expect(caller["role"] as? String == "viewer" && (caller["uid"] as? NSNumber)?.intValue == 54324)
        }
    }

    @Test func aUIDInNoGroupIsRefusedWithTheConfiguredGroups() async throws {
        try await withRouter { client, _ in
            let uid = try unknownUID(54321)
            try #require(getgrgid(54321) == nil)
            let reply = try await client.send(.get, "/v1/offices", as: peer(uid: uid, gid: 54321))
            #expect(reply.status == .forbidden)
            let error = try reply.error()
            #expect(error.code == "forbidden")
            #expect(error.message.contains("uid 54321"))
            #expect(error.message.contains("\(staffGroup) (staff)"))
            #expect(error.message.contains("\(viewerGroup) (viewer)"))
        }
    }

    @Test func viewerReadsButMayNotWrite() async throws {
        let viewer = peer(uid: try unknownUID(54322), gid: try gid(of: viewerGroup))
        try await withRouter { client, db in
            _ = try await client.send(.post, "/v1/offices", json: officeJSON)
            let list = try await client.send(.get, "/v1/offices", as: viewer)
            #expect(list.status == .ok)
            let offices = try #require(try list.json()["offices"] as? [[String: Any]])
            #expect(offices.map { $0["id"] as? String } == ["jinshan"])

            let health = try await client.send(.get, "/v1/health", as: viewer)
            let caller = try #require(try health.json()["caller"] as? [String: Any])
            #expect(caller["role"] as? String == "viewer")

            let post = try await client.send(
                .post, "/v1/offices", as: viewer, json: #"{"id": "xinhua", "name": "新华"}"#)
            #expect(post.status == .forbidden)
            let error = try post.error()
            #expect(error.code == "forbidden")
            #expect(error.message.contains("needs the admin role"))
            #expect(error.message.contains("is viewer"))

            let expert = try await client.send(.post, "/v1/experts", as: viewer, json: expertJSON)
            #expect(expert.status == .forbidden)
            #expect(try expert.error().message.contains("needs the staff role"))
            #expect(try await db.offices().map(\.id) == ["jinshan"])
            #expect(try await db.experts().isEmpty)
        }
    }

    @Test func staffWritesExpertsButNotOffices() async throws {
        let staff = peer(uid: try unknownUID(54323), gid: try gid(of: staffGroup))
        try await withRouter { client, db in
            #expect(try await client.send(.post, "/v1/offices", json: officeJSON).status == .created)
            let office = try await client.send(
                .patch, "/v1/offices/jinshan", as: staff, json: #"{"name": "改名"}"#)
            #expect(office.status == .forbidden)
            #expect(try office.error().message.contains("needs the admin role"))
            #expect(try await db.office("jinshan").name == "金山警务室")

            let expert = try await client.send(.post, "/v1/experts", as: staff, json: expertJSON)
            #expect(expert.status == .created)
            #expect(try await db.experts().count == 1)
        }
    }

    @Test func browsersAreRefused() async throws {
        try await withRouter { client, db in
            for (name, value) in [
                (HTTPField.Name.origin, "http://localhost:8080"), (.referer, "http://localhost/page"),
            ] {
                var headers = HTTPFields()
                headers[name] = value
                let get = try await client.send(.get, "/v1/health", headers: headers)
                #expect(get.status == .forbidden, "\(name)")
                let error = try get.error()
                #expect(error.code == "forbidden")
                #expect(error.message.contains("Origin or Referer"))

                let post = try await client.send(.post, "/v1/offices", headers: headers, json: officeJSON)
                #expect(post.status == .forbidden)
            }
            #expect(try await db.offices().isEmpty)
        }
    }
}

@Suite struct RouterRequestTests {
    @Test func unknownRouteListsTheContractsPaths() async throws {
        let paths = try openAPIPaths()
        try #require(paths.count >= 10, "parsed only \(paths) from openapi.yaml")
        #expect(paths.contains("/v1/experts/{expert}/availability"))
        try await withRouter { client, _ in
            for uri in ["/v1/nothing", "/", "/v2/offices", "/v1/offices/jinshan/extra"] {
                let reply = try await client.send(.get, uri)
                #expect(reply.status == .notFound, "\(uri)")
                let error = try reply.error()
                #expect(error.code == "not_found")
                #expect(Set(error.details) == Set(paths), "\(uri)")
                #expect(error.details.count == paths.count)
                for path in paths { #expect(error.message.contains(path)) }
            }
        }
    }

    @Test func malformedJSONIs400() async throws {
        try await withRouter { client, db in
            for body in [#"{"id": "jinshan", "name": "#, "not json at all", "", "[1, 2]"] {
                let reply = try await client.send(.post, "/v1/offices", json: body)
                #expect(reply.status == .badRequest, "\(body)")
                #expect(try reply.error().code == "invalid_input")
            }
            #expect(try await db.offices().isEmpty)
        }
    }

    @Test func unknownFieldIsNamed() async throws {
        try await withRouter { client, db in
            let reply = try await client.send(
                .post, "/v1/offices", json: #"{"id": "jinshan", "name": "金山", "colour": "red"}"#)
            #expect(reply.status == .badRequest)
            let error = try reply.error()
            #expect(error.code == "invalid_input")
            #expect(error.message.contains("colour"))
            #expect(try await db.offices().isEmpty)
        }
    }

    @Test func wrongTypeIs400() async throws {
        try await withRouter { client, db in
            let reply = try await client.send(
                .post, "/v1/offices", json: #"{"id": "jinshan", "name": "金山", "defaultSessionMinutes": "ninety"}"#)
            #expect(reply.status == .badRequest)
            let error = try reply.error()
            #expect(error.code == "invalid_input")
            #expect(error.message.contains("defaultSessionMinutes"))
            #expect(try await db.offices().isEmpty)
        }
    }

    @Test func bodyOverOneMiBIs413() async throws {
        try await withRouter { client, db in
            let padding = String(repeating: "a", count: 1 << 20)
            let reply = try await client.send(.post, "/v1/offices", json: #"{"id": "jinshan", "name": "\#(padding)"}"#)
            #expect(reply.status == .contentTooLarge)
            let error = try reply.error()
            #expect(error.code == "payload_too_large")
            #expect(error.message.contains("1024 KiB"))

            let roster =
                "name,role,mobile,offices\n" + String(repeating: "王芳,lawyer,13800138000,jinshan\n", count: 40_000)
            #expect(roster.utf8.count > 1 << 20)
            let csv = try await client.send(.post, "/v1/experts/import", csv: roster)
            #expect(csv.status == .contentTooLarge)
            #expect(try csv.error().code == "payload_too_large")
            #expect(try await db.offices().isEmpty)
        }
    }

    @Test func officeCreateShowAndFailedUpdate() async throws {
        try await withRouter { client, _ in
            let created = try await client.send(.post, "/v1/offices", json: officeJSON)
            #expect(created.status == .created)
            let office = try created.json()
            #expect(office["id"] as? String == "jinshan")
            #expect(office["name"] as? String == "金山警务室")
            #expect((office["defaultSessionMinutes"] as? NSNumber)?.intValue == 60)
            #expect((office["workingHours"] as? [Any])?.count == 2)

            let shown = try await client.send(.get, "/v1/offices/jinshan")
            #expect(shown.status == .ok)
            #expect(NSDictionary(dictionary: try shown.json()) == NSDictionary(dictionary: office))

            let patch = try await client.send(
                .patch, "/v1/offices/jinshan", json: #"{"name": "改名", "timeZone": "Asia/Shangai"}"#)
            // Written as the contract asks, but no such zone: a rule the document cannot state, 422.
            #expect(patch.status == .unprocessableContent)
            let error = try patch.error()
            #expect(error.code == "invalid_input")
            #expect(error.message.contains("Asia/Shangai"))

            let after = try await client.send(.get, "/v1/offices/jinshan")
            #expect(after.status == .ok)
            #expect(NSDictionary(dictionary: try after.json()) == NSDictionary(dictionary: office))

            let duplicate = try await client.send(.post, "/v1/offices", json: officeJSON)
            #expect(duplicate.status == .conflict)
            #expect(try duplicate.error().code == "conflict")

            let missing = try await client.send(.get, "/v1/offices/nowhere")
            #expect(missing.status == .notFound)
            #expect(try missing.error().message.contains("jinshan"))

            let good = try await client.send(.patch, "/v1/offices/jinshan", json: #"{"name": "金山新警务室"}"#)
            #expect(good.status == .ok)
            #expect(try good.json()["name"] as? String == "金山新警务室")
        }
    }

    @Test func expertByPercentEncodedChineseName() async throws {
        try await withRouter { client, _ in
            #expect(try await client.send(.post, "/v1/offices", json: officeJSON).status == .created)
            let created = try await client.send(.post, "/v1/experts", json: expertJSON)
            #expect(created.status == .created)
            let expert = try created.json()
            // Answered masked, as every view of a person; stored normalised, as the admin's reveal shows.
            #expect(expert["mobile"] as? String == "138****8000")
            #expect(expert["role"] as? String == "lawyer")
            #expect(expert["specialties"] as? [String] == ["family-law"])
            let id = try #require((expert["id"] as? NSNumber)?.int64Value)
            let revealed = try await client.send(.get, "/v1/experts/\(id)?reveal=true")
            #expect(try revealed.json()["mobile"] as? String == "13800138000", "\(revealed.text)")

            let encoded = try #require("王芳".addingPercentEncoding(withAllowedCharacters: .urlPathAllowed))
            #expect(encoded == "%E7%8E%8B%E8%8A%B3")
            let byName = try await client.send(.get, "/v1/experts/\(encoded)")
            #expect(byName.status == .ok, "\(byName.text)")
            #expect(try byName.json()["name"] as? String == "王芳")
            #expect((try byName.json()["id"] as? NSNumber)?.int64Value == id)

            let byMobile = try await client.send(.get, "/v1/experts/%2B86%20138%200013%208000")
            #expect(byMobile.status == .ok, "\(byMobile.text)")
            #expect((try byMobile.json()["id"] as? NSNumber)?.int64Value == id)

            let unknown = try await client.send(.get, "/v1/experts/%E8%B5%B5%E5%85%AD")
            #expect(unknown.status == .notFound)
            #expect(try unknown.error().message.contains("赵六"))
        }
    }

    @Test func availabilityRangeBackwardsIs422_andGarbageIs400() async throws {
        try await withRouter { client, _ in
            #expect(try await client.send(.post, "/v1/offices", json: officeJSON).status == .created)
            #expect(try await client.send(.post, "/v1/experts", json: expertJSON).status == .created)

            let ok = try await client.send(.get, "/v1/experts/1/availability?from=2026-12-07&to=2026-12-13")
            #expect(ok.status == .ok)
            #expect((try ok.json()["totalMinutes"] as? NSNumber)?.intValue == 180)

            let reply = try await client.send(.get, "/v1/experts/1/availability?from=2026-12-10&to=2026-12-07")
            // Both are times as the contract writes them; that the range runs backwards is a rule: 422.
            #expect(reply.status == .unprocessableContent)
            let error = try reply.error()
            #expect(error.code == "invalid_input")
            #expect(error.message.contains("ends before it starts"))

            let garbage = try await client.send(.get, "/v1/experts/1/availability?from=soon&to=2026-12-07")
            #expect(garbage.status == .badRequest)
            #expect(try garbage.error().message.contains("from 'soon' is not a date or time"))
        }
    }

    @Test func importWithABadRowWritesNothing() async throws {
        try await withRouter { client, db in
            #expect(try await client.send(.post, "/v1/offices", json: officeJSON).status == .created)
            let bad = "name,role,mobile,offices\n王芳,lawyer,not-a-phone,jinshan\n李强,retiree,13900139000,all\n"
            let reply = try await client.send(.post, "/v1/experts/import", csv: bad)
            // A CSV body is text to the contract; its rows are checked by the roster's rules: 422.
            #expect(reply.status == .unprocessableContent)
            let error = try reply.error()
            #expect(error.code == "invalid_input")
            #expect(error.details.contains { $0.hasPrefix("line 2:") })
            #expect(!error.details.contains { $0.hasPrefix("line 3:") })

            let list = try await client.send(.get, "/v1/experts")
            #expect(list.status == .ok)
            #expect((try list.json()["experts"] as? [Any])?.isEmpty == true)
            #expect(try await db.experts().isEmpty)

            let unknownOffice = "name,role,mobile,offices\n王芳,lawyer,13800138000,nowhere\n"
            let office = try await client.send(.post, "/v1/experts/import", csv: unknownOffice)
            #expect(office.status == .unprocessableContent)
            #expect(try office.error().details.first?.hasPrefix("line 2:") == true)
            #expect(try await db.experts().isEmpty)

            let good = "name,role,mobile,offices\n王芳,lawyer,13800138000,jinshan\n李强,retiree,13900139000,all\n"
            let dry = try await client.send(.post, "/v1/experts/import?dryRun=true", csv: good)
            #expect(dry.status == .ok)
            #expect(try dry.json()["dryRun"] as? Bool == true)
            #expect(try dry.json()["createdLines"] as? [Int] == [2, 3])
            #expect(try await db.experts().isEmpty)

            let real = try await client.send(.post, "/v1/experts/import", csv: good)
            #expect(real.status == .ok)
            #expect((try real.json()["created"] as? NSNumber)?.intValue == 2)
            #expect(try await db.experts().map(\.name) == ["王芳", "李强"])
        }
    }

    @Test func openAPIDocumentIsServedVerbatim() async throws {
        let file = try openAPIFile()
        try await withRouter { client, _ in
            let reply = try await client.send(.get, "/v1/openapi.yaml")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType]?.contains("yaml") == true)
            let same = reply.text == file
            #expect(
                same,
                "served \(reply.body.count) bytes, openapi.yaml has \(file.utf8.count); ends with newline: served \(reply.text.hasSuffix("\n")), file \(file.hasSuffix("\n"))"
            )
        }
    }

    @Test func embeddedDocumentMatchesOpenAPIYAML() throws {
        let file = try openAPIFile()
        let trimmed = file.hasSuffix("\n") ? String(file.dropLast()) : file
        #expect(
            openAPIDocument == file || openAPIDocument == trimmed,
            "Sources/MediationAPI/OpenAPIDocument.swift is stale: run scripts/embed-openapi.sh")
    }

    /// Odd and hostile requests: every one gets a 4xx JSON error, never a 500.
    @Test func oddRequestsNeverAnswer500() async throws {
        try await withRouter { client, _ in
            #expect(try await client.send(.post, "/v1/offices", json: officeJSON).status == .created)
            #expect(try await client.send(.post, "/v1/experts", json: expertJSON).status == .created)
            let cases: [(HTTPRequest.Method, String, String?, String?)] = [
                (.put, "/v1/health", nil, nil),
                (.delete, "/v1/offices/jinshan", nil, nil),
                (.delete, "/v1/experts/1/time-off/abc", nil, nil),
                (.delete, "/v1/experts/1/time-off/99999999999999999999999", nil, nil),
                (.delete, "/v1/experts/1/extra-availability/7", nil, nil),
                (.get, "/v1/experts?active=maybe", nil, nil),
                (.get, "/v1/experts?role=wizard", nil, nil),
                (.get, "/v1/experts?office=nowhere", nil, nil),
                (.get, "/v1/experts/%FF%FE", nil, nil),
                (.get, "/v1/experts/1/availability", nil, nil),
                (.get, "/v1/experts/1/availability?from=2026-12-07&to=2030-12-07", nil, nil),
                (.get, "/v1/experts/1/time-off?from=2026-13-45", nil, nil),
                (.post, "/v1/experts/1/time-off", #"{"from": "2026-12-07", "to": "2025-01-01"}"#, "application/json"),
                (.post, "/v1/experts/1/time-off", #"{"from": "2026-12-07"}"#, "application/json"),
                (
                    .post, "/v1/experts/nobody/extra-availability", #"{"from": "2026-12-07", "to": "2026-12-08"}"#,
                    "application/json"
                ),
                (
                    .post, "/v1/experts",
                    #"{"name": "李强", "role": "wizard", "offices": ["jinshan"], "mobile": "13900139000"}"#,
                    "application/json"
                ),
                (
                    .post, "/v1/experts",
                    #"{"name": "李强", "role": "lawyer", "offices": ["jinshan"], "mobile": "13800138000"}"#,
                    "application/json"
                ),
                (
                    .post, "/v1/experts",
                    #"{"name": "李强", "role": "lawyer", "offices": ["jinshan"], "mobile": "13900139000", "preferredChannel": "pigeon"}"#,
                    "application/json"
                ),
                (.patch, "/v1/experts/1", #"{"maxSessionsPerDay": -1}"#, "application/json"),
                (
                    .patch, "/v1/experts/1",
                    #"{"weeklyHours": [{"weekday": "someday", "start": "25:00", "end": "x"}]}"#, "application/json"
                ),
                (.post, "/v1/offices", "[]", "application/json"),
                (.post, "/v1/offices", #"{"id": "jinshan", "name": "x"}"#, "text/plain"),
                (.post, "/v1/offices", #"{"id": "x", "name": ""}"#, "application/json"),
                (.post, "/v1/experts/import", #"{"rows": []}"#, "application/json"),
                (.post, "/v1/experts/import", "", "text/csv"),
                (.post, "/v1/experts/import", "\u{FEFF}姓名,角色,手机,服务警务室\n", "text/csv"),
                (.post, "/v1/experts/import?dryRun=perhaps", "name,role,mobile,offices\n", "text/csv"),
            ]
            for (method, uri, body, type) in cases {
                let reply = try await client.send(method, uri, bytes: body.map { Array($0.utf8) }, contentType: type)
                #expect(reply.status.code < 500, "\(method) \(uri): \(reply.status) \(reply.text)")
                if reply.status.code >= 400 {
                    do { _ = try JSONDecoder().decode(ErrorBody.self, from: reply.body) } catch {
                        Issue.record("\(method) \(uri): not an error body: \(reply.text)")
                    }
                }
            }
            // Invalid UTF-8 in a roster.
            let binary = try await client.send(
                .post, "/v1/experts/import", bytes: [0x6E, 0x61, 0xFF, 0xFE, 0x0A, 0xC3], contentType: "text/csv")
            #expect(binary.status == .badRequest)
            #expect(try binary.error().code == "invalid_input")
            let export = try await client.send(.get, "/v1/experts/export")
            #expect(export.status == .ok)
            #expect(export.text.contains("王芳"))
        }
    }
}
