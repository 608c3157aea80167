import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MediationCore
import MediationStore
import Testing

@testable import MediationServer

/// The one table of authority, `OperationRoles`: every operation of the contract has exactly one entry, and the
/// router grants each operation to its role and the ones above, and refuses it to the ones below.
@Suite struct OperationAccessTests {
    @Test func everyOperationOfTheContractHasExactlyOneRole() throws {
        let operations = try contractOperations()
        let ids = operations.map(\.operationId)
        #expect(Set(ids).count == ids.count, "an operationId is used twice in openapi.yaml")
        #expect(Set(ids) == Set(OperationRoles.required.keys))
        #expect(Set(ids).subtracting(OperationRoles.required.keys).isEmpty, "no role for these operations")
        #expect(Set(OperationRoles.required.keys).subtracting(ids).isEmpty, "roles for operations that do not exist")
        #expect(!OperationRoles.allows(.admin, "noSuchOperation"), "an unknown operation is refused to everyone")
    }

    /// The rules the table encodes, as the design states them, so a slip in the table is seen.
    @Test func theTableSaysWhatTheDesignSays() throws {
        let needs = OperationRoles.required
        for operation in try contractOperations() {
            let expected: Role
            switch operation.operationId {
            case "createBackup", "testChannel": expected = .admin
            // The console's accounts, listing included: who may sign in is the administrator's.
            case _ where operation.path.hasPrefix("/v1/users"): expected = .admin
            // Personal addresses (a room's links, an expert's calendar feed) and what they reveal: staff only.
            case "getSessionLinks", "previewNotices", "listAudit", "getExpertFeed": expected = .staff
            default:
                if operation.method == "GET" {
                    expected = .viewer
                } else if ["/v1/offices", "/v1/policies", "/v1/retention"].contains(where: operation.path.hasPrefix) {
                    expected = .admin
                } else {
                    expected = .staff
                }
            }
            #expect(needs[operation.operationId] == expected, "\(operation.operationId)")
        }
    }

    /// Every operation, as a viewer, a staff member and an admin: refused (403, naming the role it needs) exactly
    /// when the caller's role is below the table's, and never refused for the role otherwise (whatever else the
    /// empty request earns: 400, 404, 409 …).
    @Test func eachOperationIsRefusedExactlyToTheRolesBelowItsOwn() async throws {
        let operations = try contractOperations()
        let callers: [(Role, String)] = [
            (.viewer, "1 \(try unknownUID(54501)) \(try gid(of: viewerGroup))"),
            (.staff, "1 \(try unknownUID(54502)) \(try gid(of: staffGroup))"), (.admin, root),
        ]
        let app = Application(
            router: try MediationServer.router(db: AppDatabase.inMemory(), policy: policy(), info: ServerInfo()))
        try await app.test(.router) { base in
            let client = Client(base: base)
            var checked = 0
            for operation in operations {
                let needed = try #require(OperationRoles.required[operation.operationId])
                let path = operation.path.replacingOccurrences(of: "{channel}", with: "maildir")
                    .replacingOccurrences(of: "{kind}", with: "disputes")
                    .replacing(#/\{[a-z]+\}/#, with: "1")
                for (role, caller) in callers {
                    let method = HTTPRequest.Method(rawValue: operation.method)!
                    let reply = try await client.send(
                        method, path, as: caller, json: operation.method == "GET" ? nil : "{}")
                    let refused = reply.status == .forbidden && reply.message().contains("needs the")
                    #expect(
                        refused == (role < needed),
                        "\(operation.operationId) as \(role): \(reply.status) \(reply.message())")
                    if role < needed {
                        #expect(reply.message().contains("needs the \(needed.rawValue) role"), "\(reply.message())")
                        #expect(reply.message().contains("is \(role.rawValue)"))
                    }
                    checked += 1
                }
            }
            #expect(checked == operations.count * 3)
        }
    }
}
