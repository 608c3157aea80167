import Foundation
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

    /// Checks that a caller of `role` may see full numbers.
    ///
    /// - Throws: `forbidden` naming the caller's role, the roles that may, and the configuration key.
    public func checkReveal(_ role: Role?) throws {
        let allowed = revealRoles
        guard let role, allowed.contains(role) else {
            let names = allowed.sorted().map(\.rawValue).joined(separator: ", ")
            let namesZh = allowed.sorted().map { Words.role($0, .zh) }.joined(separator: "、")
            throw MediationError.said(
                .forbidden,
                en: "showing full mobiles and ID-card numbers (reveal) is allowed to the roles in "
                    + "privacy.reveal_roles (\(names.isEmpty ? "none" : names)); "
                    + "\(role.map { "you are \($0.rawValue)" } ?? "the caller is unknown"). "
                    + "Ask without --reveal, or ask an administrator",
                zh: "查看完整手机号和身份证号（--reveal）仅限 privacy.reveal_roles 中的角色（\(namesZh.isEmpty ? "无" : namesZh)）；"
                    + "\(role.map { "您的角色是“\(Words.role($0, .zh))”" } ?? "无法确认您的身份")。请去掉 --reveal 再查，或请管理员查看")
        }
    }

    /// Whether `role` may see full numbers (the console shows its reveal button only then).
    public func allowsReveal(_ role: Role) -> Bool { revealRoles.contains(role) }

    /// Reads role names as the configuration gives them.
    ///
    /// - Throws: `invalidInput` naming the unknown role.
    public static func roles(_ names: [String]) throws -> Set<Role> {
        try Set(
            names.map { name in
                guard let role = Role(rawValue: name.trimmingWhitespace().lowercased()) else {
                    throw MediationError.said(
                        .invalidInput,
                        en: "privacy.reveal_roles: '\(name)' is not a role; use admin, staff or viewer",
                        zh: "privacy.reveal_roles：“\(name)”不是角色，请写 admin、staff 或 viewer")
                }
                return role
            })
    }
}
