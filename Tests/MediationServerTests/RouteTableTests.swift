import Foundation
import Testing

@testable import MediationServer

/// The 405 answer's route table must say what openapi.yaml says.
@Test func routeTableMatchesTheContract() throws {
    let yamlURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/MediationAPI/openapi.yaml")
    let lines = try String(contentsOf: yamlURL, encoding: .utf8).split(
        separator: "\n", omittingEmptySubsequences: false)
    var contract: [String: Set<String>] = [:]
    var current: String?
    var inPaths = false
    for line in lines {
        if line.hasPrefix("paths:") { inPaths = true; continue }
        if inPaths, let first = line.first, first != " " { break }
        guard inPaths else { continue }
        if line.hasPrefix("  /"), line.hasSuffix(":") {
            current = String(line.dropFirst(2).dropLast())
            contract[current ?? ""] = []
        } else if let path = current, line.hasPrefix("    "), !line.hasPrefix("     ") {
            let word = line.trimmingCharacters(in: .whitespaces).dropLast()
            if ["get", "post", "patch", "put", "delete"].contains(String(word)) {
                contract[path, default: []].insert(word.uppercased())
            }
        }
    }
    #expect(!contract.isEmpty)
    let table = Dictionary(uniqueKeysWithValues: ErrorMapping.routes.map { ($0.path, Set($0.methods)) })
    #expect(table == contract)
    #expect(Set(ErrorMapping.resourcePaths) == Set(contract.keys))
    #expect(ErrorMapping.allowedMethods("/v1/experts/import") == ["POST"])
    #expect(ErrorMapping.allowedMethods("/v1/experts/王芳") == ["GET", "PATCH"])
    #expect(ErrorMapping.allowedMethods("/v1/nothing") == nil)
}
