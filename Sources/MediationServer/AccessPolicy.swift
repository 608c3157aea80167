import Dispatch
import Foundation
import Glibc
import MediationCore
import Synchronization

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
        return (r.adminGroups + r.staffGroups + r.viewerGroups).filter { Self.groupID($0) == nil }
    }

    private static func resolve(_ rules: AccessRules) -> [UInt32: Role] {
        var map: [UInt32: Role] = [:]
        for (names, role) in [
            (rules.viewerGroups, Role.viewer), (rules.staffGroups, .staff), (rules.adminGroups, .admin),
        ] {
            for name in names {
                guard let gid = groupID(name) else { continue }
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
            let none = rules.adminGroups.isEmpty && rules.staffGroups.isEmpty && rules.viewerGroups.isEmpty
            throw MediationError.said(
                .forbidden,
                en: "uid \(creds.uid)\(decision.user.map { " (\($0))" } ?? "") may not use mediationd; "
                    + "ask an administrator to add the user to one of the groups: \(rules.listing)",
                zh: "uid \(creds.uid)\(decision.user.map { "（\($0)）" } ?? "") 无权使用 mediationd；"
                    + "请管理员把该用户加入以下组之一：\(none ? "尚未配置任何组（access.*_groups）" : rules.listing)")
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

    /// The user name of `uid`, or nil when it has no passwd entry. `getpwuid_r`, because connections are served
    /// on several threads at once and `getpwuid` answers in one static buffer.
    static func userName(_ uid: UInt32) -> String? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var size = max(sysconf(Int32(_SC_GETPW_R_SIZE_MAX)), 1024)
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let status = getpwuid_r(uid, &entry, &buffer, buffer.count, &found)
            if status == ERANGE, size < 1 << 20 {
                size *= 2
                continue
            }
            guard status == 0, found != nil, let name = entry.pw_name else { return nil }
            return String(cString: name)
        }
    }

    /// The gid of the group `name`, or nil when there is none (`getgrnam_r`, for the same reason).
    static func groupID(_ name: String) -> UInt32? {
        var entry = group()
        var found: UnsafeMutablePointer<group>?
        var size = max(sysconf(Int32(_SC_GETGR_R_SIZE_MAX)), 1024)
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let status = getgrnam_r(name, &entry, &buffer, buffer.count, &found)
            if status == ERANGE, size < 1 << 20 {
                size *= 2
                continue
            }
            guard status == 0, found != nil else { return nil }
            return entry.gr_gid
        }
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
}

/// The language a reply's words are in, for the request being answered: what `Accept-Language` asks for, English
/// when it asks nothing (the CLI sends `zh-CN` under a Chinese `LANG`).
public enum ReplyLanguage {
    @TaskLocal public static var current: Language = .en
}
