import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MediationCore
import MediationStore
import Testing

@testable import MediationServer

/// The routes the router serves, as the generated code registered them.
let servedRoutes: [RouteTable.Route] = {
    do {
        return try MediationServer.build(
            db: AppDatabase.inMemory(), policy: policy(), info: ServerInfo(), limits: ServerLimits()
        ).routes.routes
    } catch {
        Issue.record("the router could not be built: \(error)")
        return []
    }
}()

/// One operation of openapi.yaml: its method, path template and operationId.
struct ContractOperation: Sendable, Hashable {
    var method: String
    var path: String
    var operationId: String
}

/// Every operation under `paths:` in openapi.yaml.
func contractOperations() throws -> [ContractOperation] {
    let yamlURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/MediationAPI/openapi.yaml")
    let lines = try String(contentsOf: yamlURL, encoding: .utf8).split(
        separator: "\n", omittingEmptySubsequences: false)
    var operations: [ContractOperation] = []
    var path: String?
    var method: String?
    var inPaths = false
    for line in lines {
        if line.hasPrefix("paths:") {
            inPaths = true
            continue
        }
        if inPaths, let first = line.first, first != " " { break }
        guard inPaths else { continue }
        if line.hasPrefix("  /"), line.hasSuffix(":") {
            path = String(line.dropFirst(2).dropLast())
            method = nil
        } else if line.hasPrefix("    "), !line.hasPrefix("     ") {
            let word = String(line.trimmingCharacters(in: .whitespaces).dropLast())
            method = ["get", "post", "patch", "put", "delete"].contains(word) ? word.uppercased() : nil
        } else if let path, let method, line.hasPrefix("      operationId: ") {
            let id = line.dropFirst("      operationId: ".count).trimmingCharacters(in: .whitespaces)
            operations.append(ContractOperation(method: method, path: path, operationId: id))
        }
    }
    return operations
}

/// The 404 and 405 answers' route table is the router's own, and says what openapi.yaml says.
@Test func routeTableMatchesTheContract() throws {
    let operations = try contractOperations()
    #expect(operations.count > 70)
    var contract: [String: Set<String>] = [:]
    for operation in operations { contract[operation.path, default: []].insert(operation.method) }
    let table = Dictionary(uniqueKeysWithValues: servedRoutes.map { ($0.path, Set($0.methods)) })
    #expect(table == contract)
    let routes = try MediationServer.build(
        db: AppDatabase.inMemory(), policy: policy(), info: ServerInfo(), limits: ServerLimits()
    ).routes
    #expect(Set(routes.resourcePaths) == Set(contract.keys))
    #expect(routes.allowedMethods("/v1/experts/import") == ["POST"])
    #expect(routes.allowedMethods("/v1/experts/王芳") == ["GET", "HEAD", "PATCH"])
    #expect(routes.allowedMethods("/v1/nothing") == nil)
}

/// Every method a path does not answer gets 405 with `Allow` naming the methods it does (RFC 9110), on every path
/// of the contract.
@Test func everyMethodNotAllowedIsAnswered405WithAllow() async throws {
    let operations = try contractOperations()
    let contract = Dictionary(operations.map { ($0.path, Set([$0.method])) }, uniquingKeysWith: { $0.union($1) })
    let app = Application(
        router: try MediationServer.router(db: AppDatabase.inMemory(), policy: policy(), info: ServerInfo()))
    try await app.test(.router) { base in
        let client = Client(base: base)
        var checked = 0
        for (path, methods) in contract.sorted(by: { $0.key < $1.key }) {
            let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
            let allowed = (methods.contains("GET") ? methods.union(["HEAD"]) : methods).sorted {
                order.firstIndex(of: $0) ?? 9 < order.firstIndex(of: $1) ?? 9
            }
            let concrete = path.replacingOccurrences(of: "{channel}", with: "maildir")
                .replacingOccurrences(of: "{kind}", with: "disputes")
                .replacing(#/\{[a-z]+\}/#, with: "1")
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"] where !methods.contains(method)
            {
                let reply = try await client.send(HTTPRequest.Method(rawValue: method)!, concrete)
                #expect(reply.status == .methodNotAllowed, "\(method) \(concrete): \(reply.status) \(reply.text)")
                #expect(
                    reply.headers[.allow] == allowed.joined(separator: ", "),
                    "\(method) \(concrete): Allow \(reply.headers[.allow] ?? "missing")")
                #expect(try reply.error().details == allowed)
                checked += 1
            }
        }
        #expect(checked > 200)
    }
}
