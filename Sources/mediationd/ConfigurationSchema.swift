import Foundation
import MediationCore
import Yams

/// The keys the daemon reads, with their shape, so that a misspelt key or a list where one value belongs
/// is an error at start instead of a silent default.
enum ConfigurationSchema {
    enum Shape { case value, list }

    static let keys: [String: Shape] = baseKeys.merging(NoticeConfiguration.keys) { a, _ in a }
        .merging(OutcomeConfiguration.keys) { a, _ in a }.merging(PrivacyConfiguration.keys) { a, _ in a }

    private static let baseKeys: [String: Shape] = [
        "socket.path": .value, "socket.mode": .value, "socket.group": .value, "socket.idle_timeout_seconds": .value,
        "socket.header_timeout_seconds": .value, "socket.max_connections": .value, "socket.max_body_kib": .value,
        "socket.max_connections_per_uid": .value, "socket.body_timeout_seconds": .value,
        "store.path": .value, "spool.directory": .value, "access.admin_groups": .list, "access.staff_groups": .list,
        "access.viewer_groups": .list, "log.level": .value, "disputes.categories": .list,
        "scheduling.minimum_notice_minutes": .value, "scheduling.buffer_minutes": .value, "scheduling.holidays": .list,
        "scheduling.start_margin_minutes": .value,
        "panels.default": .value, "panels.legal_officer_from_risk": .value, "panels.by_category": .list,
        "rooms.provider": .value,
        "rooms.template": .value, "rooms.jitsi.domain": .value, "rooms.jitsi.app_id": .value,
        "rooms.jitsi.audience": .value, "rooms.jitsi.secret": .value, "rooms.jitsi.secret_file": .value,
        "web.listen": .value, "web.public_url": .value, "web.tls.certificate": .value, "web.tls.key": .value,
        "web.require_totp_for_admins": .value,
    ]

    /// Checks a YAML file's keys and shapes.
    ///
    /// - Throws: `invalidInput` naming every unknown key (with the nearest known one) and every wrong shape.
    static func check(yaml text: String, file: String) throws {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw MediationError.invalidInput("configuration file \(file) is not valid YAML: \(error)")
        }
        guard let node else { return }
        var problems = Problems()
        guard let top = node.mapping else {
            throw MediationError.invalidInput(
                "configuration file \(file) must be a mapping of sections (socket:, store:, access: …)")
        }
        walk(top, prefix: "", problems: &problems)
        try problems.check("configuration file \(file)")
    }

    private static func walk(_ mapping: Node.Mapping, prefix: String, problems: inout Problems) {
        for (keyNode, value) in mapping {
            let key = prefix.isEmpty ? (keyNode.string ?? "") : prefix + "." + (keyNode.string ?? "")
            if let shape = keys[key] {
                switch (shape, value) {
                case (.value, .scalar): break
                case (.list, .sequence(let seq)) where seq.allSatisfy({ $0.scalar != nil }): break
                case (.list, .scalar): break  // one group written without brackets
                case (.value, _): problems.add("\(key) must be a single value, not a list or a section")
                case (.list, _): problems.add("\(key) must be a list of group names, for example [mediation-staff]")
                }
            } else if let section = value.mapping, keys.keys.contains(where: { $0.hasPrefix(key + ".") }) {
                walk(section, prefix: key, problems: &problems)
            } else {
                problems.add("unknown key '\(key)'" + (nearest(key).map { "; did you mean '\($0)'?" } ?? ""))
            }
        }
    }

    /// `MEDIATIOND_*` variables that name no key (a typo would otherwise be ignored).
    static func unknownEnvironment(_ environment: [String: String]) -> [String] {
        let known = Set(keys.keys.map { "MEDIATIOND_" + $0.uppercased().replacingOccurrences(of: ".", with: "_") })
        return environment.keys.filter { $0.hasPrefix("MEDIATIOND_") && !known.contains($0) }.sorted()
    }

    static var environmentNames: [String] {
        keys.keys.sorted().map { "MEDIATIOND_" + $0.uppercased().replacingOccurrences(of: ".", with: "_") }
    }

    /// The known key closest in spelling, when it is close enough to be a typo.
    static func nearest(_ key: String) -> String? {
        let candidates = keys.keys.flatMap { k -> [String] in
            let parts = k.split(separator: ".").map(String.init)
            return [k] + (1..<parts.count).map { parts.prefix($0).joined(separator: ".") }
        }
        var best: (key: String, cost: Int)?
        for candidate in Set(candidates).sorted() {
            let cost = distance(candidate, key)
            if best == nil || cost < (best?.cost ?? Int.max) { best = (candidate, cost) }
        }
        guard let best, best.cost <= max(2, key.count / 4) else { return nil }
        return best.key
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a)
        let y = Array(b)
        var row = Array(0...y.count)
        for i in 1...max(x.count, 1) where !x.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(y.count, 1) where !y.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (x[i - 1] == y[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[y.count]
    }
}
