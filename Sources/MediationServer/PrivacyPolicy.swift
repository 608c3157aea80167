import Foundation
import MediationCore
import Synchronization

/// Who may see full mobiles and ID-card numbers (parties' and experts' alike), and how long parties' are kept after
/// a dispute closes (`privacy.*`). Replaceable at run time, so a reload of the configuration applies at once.
///
/// For example:
/// ```swift
/// let privacy = PrivacyPolicy(revealRoles: [.admin], retentionMonths: 24)
/// privacy.update(revealRoles: [.admin, .staff], retentionMonths: 12)   // on SIGHUP
/// ```
public final class PrivacyPolicy: Sendable {
    private struct State {
        var revealRoles: Set<Role>
        var retentionMonths: Int
    }

    private let state: Mutex<State>

    public init(revealRoles: Set<Role> = [.admin], retentionMonths: Int = 24) {
        state = Mutex(State(revealRoles: revealRoles, retentionMonths: retentionMonths))
    }

    /// Replaces the rules (on reload).
    public func update(revealRoles: Set<Role>, retentionMonths: Int) {
        state.withLock { $0 = State(revealRoles: revealRoles, retentionMonths: retentionMonths) }
    }

    public var revealRoles: Set<Role> { state.withLock { $0.revealRoles } }
    public var retentionMonths: Int { state.withLock { $0.retentionMonths } }

    /// Checks that `caller` may see full numbers.
    ///
    /// - Throws: `forbidden` naming the caller's role, the roles that may, and the configuration key.
    public func checkReveal(_ caller: Caller?) throws {
        let allowed = revealRoles
        guard let caller, allowed.contains(caller.role) else {
            let names = allowed.sorted().map(\.rawValue).joined(separator: ", ")
            throw MediationError.forbidden(
                "showing full mobiles and ID-card numbers (reveal) is allowed to the roles in "
                    + "privacy.reveal_roles (\(names.isEmpty ? "none" : names)); "
                    + "\(caller.map { "you are \($0.role.rawValue)" } ?? "the caller is unknown"). "
                    + "Ask without --reveal, or ask an administrator")
        }
    }

    /// Reads role names as the configuration gives them.
    ///
    /// - Throws: `invalidInput` naming the unknown role.
    public static func roles(_ names: [String]) throws -> Set<Role> {
        try Set(
            names.map { name in
                guard let role = Role(rawValue: name.trimmingWhitespace().lowercased()) else {
                    throw MediationError.invalidInput(
                        "privacy.reveal_roles: '\(name)' is not a role", hint: "use admin, staff or viewer")
                }
                return role
            })
    }
}

extension APIHandler {
    /// The one reveal path, for parties and experts alike: false when the caller did not ask; when they did, their
    /// role is checked against `privacy.reveal_roles` before anything is read. Pair with `recordReveal`.
    ///
    /// - Throws: `forbidden` for a role that may not reveal.
    func revealAsked(_ asked: Bool?) throws -> Bool {
        guard asked == true else { return false }
        try info.privacy.checkReveal(Caller.current)
        return true
    }

    /// Puts a reveal on the record (`party.reveal`, `expert.reveal`): who saw whose full numbers. Only ids and
    /// counts go in the summary, never a number.
    func recordReveal(_ action: String, target: String, summary: String) async throws {
        try await db.recordAudit(action: action, target: target, summary: summary)
    }
}
