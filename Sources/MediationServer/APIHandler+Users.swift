import Foundation
import MediationAPI
import MediationCore
import MediationStore

/// The web console's accounts, administered through the socket (admin only, by `OperationRoles`).
extension APIHandler {
    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        let now = info.clock.now()
        return .ok(.init(body: .json(.init(users: try await db.accounts().map { Wire.user($0, now: now) }))))
    }

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        guard case .json(let body) = input.body else { throw Wire.notJSON }
        let role = Role(rawValue: body.role.rawValue) ?? .viewer
        let issued = try await db.createAccount(name: body.name, role: role, offices: body.offices ?? [])
        return .created(.init(body: .json(Wire.issued(issued, now: info.clock.now()))))
    }

    func resetUserPassword(_ input: Operations.ResetUserPassword.Input) async throws
        -> Operations.ResetUserPassword.Output
    {
        let issued = try await db.resetPassword(name: input.path.user)
        return .ok(.init(body: .json(Wire.issued(issued, now: info.clock.now()))))
    }

    func disableUser(_ input: Operations.DisableUser.Input) async throws -> Operations.DisableUser.Output {
        .ok(.init(body: .json(Wire.user(try await db.disableAccount(name: input.path.user), now: info.clock.now()))))
    }

    func setUserOffices(_ input: Operations.SetUserOffices.Input) async throws -> Operations.SetUserOffices.Output {
        guard case .json(let body) = input.body else { throw Wire.notJSON }
        let account = try await db.setAccountOffices(name: input.path.user, offices: body.offices)
        return .ok(.init(body: .json(Wire.user(account, now: info.clock.now()))))
    }
}

extension Wire {
    /// An account as the API shows it: never its password or hash.
    static func user(_ a: Account, now: Date) -> Components.Schemas.User {
        let locked = AccountRules.isLocked(a, now: now)
        return .init(
            name: a.name, role: .init(rawValue: a.role.rawValue) ?? .viewer, offices: a.offices,
            mustChangePassword: a.mustChangePassword, disabled: a.disabled, locked: locked,
            lockedUntil: locked ? a.lockedUntil : nil, createdAt: a.createdAt, totp: a.hasTOTP)
    }

    static func issued(_ i: IssuedPassword, now: Date) -> Components.Schemas.UserPassword {
        .init(user: user(i.account, now: now), oneTimePassword: i.oneTimePassword)
    }

    static var notJSON: MediationError {
        .invalidInput("the request body has the wrong content type", hint: "send application/json")
    }
}
