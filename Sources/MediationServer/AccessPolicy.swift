import Dispatch
import Foundation
import Glibc
import MediationCore
import Synchronization

/// What a caller may do: viewers read, staff also change experts, admins also change offices.
public enum Role: String, Sendable, Comparable, CaseIterable {
    case viewer, staff, admin

    var rank: Int { Role.allCases.firstIndex(of: self) ?? 0 }
    public static func < (a: Role, b: Role) -> Bool { a.rank < b.rank }
}

/// Which unix groups grant which role, as the configuration names them.
public struct AccessRules: Sendable, Equatable {
    public var adminGroups: [String]
    public var staffGroups: [String]
    public var viewerGroups: [String]

    public init(
        adminGroups: [String] = ["mediation-admin"], staffGroups: [String] = ["mediation-staff"],
        viewerGroups: [String] = ["mediation-viewer"]
    ) {
        self.adminGroups = adminGroups
        self.staffGroups = staffGroups
        self.viewerGroups = viewerGroups
    }

    /// "mediation-admin (admin), mediation-staff (staff), mediation-viewer (viewer)"
    var listing: String {
        let named =
            adminGroups.map { "\($0) (admin)" } + staffGroups.map { "\($0) (staff)" }
            + viewerGroups.map { "\($0) (viewer)" }
        return named.isEmpty ? "none are configured (access.*_groups)" : named.joined(separator: ", ")
    }
}

/// A caller identified by its credentials, with the role it was granted.
public struct Caller: Sendable, Equatable {
    public var credentials: PeerCredentials
    public var user: String?
    public var role: Role

    /// The caller of the request being handled, set by the access middleware.
    @TaskLocal public static var current: Caller?
}

/// Decides who may call, from the peer's uid and groups. Root and the daemon's own uid are admin.
public final class AccessPolicy: Sendable {
    /// A decision for one (uid, gid): the user's name and role (nil when refused), until `expires`.
    private struct Decision {
        var user: String?
        var role: Role?
        var expires: UInt64
    }

    private struct State {
        var rules: AccessRules
        var gids: [UInt32: Role]
        var decisions: [UInt64: Decision] = [:]
        /// Bumped by every reload, so a decision computed under the old rules is never stored after it.
        var generation = 0
    }

    private let state: Mutex<State>
    private let ownUID: UInt32
    /// Group membership is read from the system at most this often per caller (passwd and group lookups
    /// cost more than the rest of a small request). A reload forgets every decision at once.
    private static let decisionLifetime: UInt64 = 10_000_000_000

    public init(rules: AccessRules, ownUID: UInt32 = getuid()) {
        self.ownUID = ownUID
        state = Mutex(State(rules: rules, gids: Self.resolve(rules)))
    }

    /// Replaces the rules (on reload).
    public func update(_ rules: AccessRules) {
        let gids = Self.resolve(rules)
        state.withLock { $0 = State(rules: rules, gids: gids, generation: $0.generation + 1) }
    }

    public var rules: AccessRules { state.withLock { $0.rules } }

    /// Group names in the rules that do not exist on this system, for a warning at start.
    public var missingGroups: [String] {
        let r = rules
        return (r.adminGroups + r.staffGroups + r.viewerGroups).filter { getgrnam($0) == nil }
    }

    private static func resolve(_ rules: AccessRules) -> [UInt32: Role] {
        var map: [UInt32: Role] = [:]
        for (names, role) in [
            (rules.viewerGroups, Role.viewer), (rules.staffGroups, .staff), (rules.adminGroups, .admin),
        ] {
            for name in names {
                guard let group = getgrnam(name) else { continue }
                let gid = group.pointee.gr_gid
                map[gid] = max(map[gid] ?? role, role)
            }
        }
        return map
    }

    /// The caller's role, or a `forbidden` error naming the groups that would let them in.
    public func authorize(_ creds: PeerCredentials) throws -> Caller {
        let key = UInt64(creds.uid) << 32 | UInt64(creds.gid)
        let now = DispatchTime.now().uptimeNanoseconds
        let (cached, generation, gids) = state.withLock { ($0.decisions[key], $0.generation, $0.gids) }
        let decision: Decision
        if let cached, cached.expires > now {
            decision = cached
        } else {
            decision = decide(creds, gids: gids, expires: now + Self.decisionLifetime)
            state.withLock { if $0.generation == generation { $0.decisions[key] = decision } }
        }
        guard let role = decision.role else {
            let rules = self.rules
            throw MediationError.forbidden(
                "uid \(creds.uid)\(decision.user.map { " (\($0))" } ?? "") may not use mediationd; "
                    + "ask an administrator to add the user to one of the groups: \(rules.listing)")
        }
        return Caller(credentials: creds, user: decision.user, role: role)
    }

    private func decide(_ creds: PeerCredentials, gids: [UInt32: Role], expires: UInt64) -> Decision {
        let user = Self.userName(creds.uid)
        if creds.uid == 0 || creds.uid == ownUID {
            return Decision(user: user, role: .admin, expires: expires)
        }
        var best: Role?
        for gid in Self.groups(of: creds, user: user) {
            if let role = gids[gid] { best = max(best ?? role, role) }
        }
        return Decision(user: user, role: best, expires: expires)
    }

    static func userName(_ uid: UInt32) -> String? {
        guard let pw = getpwuid(uid), let name = pw.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    /// The primary group from the socket plus the user's supplementary groups.
    static func groups(of creds: PeerCredentials, user: String?) -> [UInt32] {
        guard let user else { return [creds.gid] }
        var count: Int32 = 64
        var list = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, creds.gid, &list, &count) == -1 {
            list = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(user, creds.gid, &list, &count)
        }
        return [creds.gid] + list.prefix(Int(max(count, 0)))
    }

    /// The least role a request needs: reads need viewer, office changes admin, other changes staff.
    /// The audit trail is read by staff and admins (who answer for the changes in it), not by viewers; the
    /// retention policy, which removes personal data for good, is run by admins.
    public static func requiredRole(method: String, path: String) -> Role {
        // The router ignores repeated slashes, so the policy must too: "//v1/offices" is "/v1/offices".
        let normalized = "/" + path.split(separator: "/").joined(separator: "/")
        switch method {
        case "GET", "HEAD", "OPTIONS": return normalized.hasPrefix("/v1/audit") ? .staff : .viewer
        default:
            return normalized.hasPrefix("/v1/offices") || normalized.hasPrefix("/v1/policies")
                || normalized.hasPrefix("/v1/retention") ? .admin : .staff
        }
    }
}
