import Foundation
import GRDB
import MediationCore

/// A booked session with the people its notices cannot reach personally.
public struct UnreachedSession: Sendable, Equatable {
    public var sessionId: Int64
    public var start: Date
    public var disputeNumber: String
    /// The office's zone, in which its start is shown.
    public var zone: Zone
    public var people: [Unreached]
}

extension AppDatabase {
    /// Who a session's notices cannot reach personally under `available` (Core's `Reach`): its panel, then its
    /// dispute's parties, each with why and what to do.
    public func unreached(session id: Int64, available: PersonalChannels) async throws -> [Unreached] {
        try await read { db in
            let session = try Self.findSession(id, db).session
            return try Self.unreached(
                [(session.id, session.disputeId)], db, available: available)[id] ?? []
        }
    }

    /// The booked sessions still to come (of `office`, every office when nil) whose notices cannot reach
    /// someone personally, soonest first: what the dashboard and `status` show, so staff tell those people
    /// another way. Only names and addresses are read: an office may have hundreds of sessions a week.
    public func unreachedUpcoming(available: PersonalChannels, office: String? = nil) async throws
        -> [UnreachedSession]
    {
        let now = clock.now()
        return try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, dispute_id, office_id, starts_at FROM session
                    WHERE status = 'booked' AND starts_at > ? AND (? IS NULL OR office_id = ?)
                    ORDER BY starts_at, id
                    """, arguments: [now.epoch, office, office])
            var sessions: [(id: Int64, dispute: Int64, office: String, start: Date)] = []
            for row in rows {
                let r = StoredRow(row, table: "session")
                sessions.append(
                    (
                        try r.value(Column("id")), try r.value(Column("dispute_id")), try r.value(Column("office_id")),
                        Date(epoch: try r.value(Column("starts_at")))
                    ))
            }
            let found = try Self.unreached(sessions.map { ($0.id, $0.dispute) }, db, available: available)
            let numbers = try Self.disputeNumbers(Set(sessions.map(\.dispute)), db)
            var zones: [String: Zone] = [:]
            return try sessions.compactMap { s in
                guard let people = found[s.id], !people.isEmpty else { return nil }
                let zone = try zones[s.office] ?? Self.officeZone(s.office, db)
                zones[s.office] = zone
                return UnreachedSession(
                    sessionId: s.id, start: s.start, disputeNumber: numbers[s.dispute] ?? "#\(s.dispute)", zone: zone,
                    people: people)
            }
        }
    }

    /// Per session (id and dispute): its panel's and its parties' people no personal channel reaches.
    static func unreached(_ sessions: [(id: Int64, dispute: Int64)], _ db: Database, available: PersonalChannels)
        throws -> [Int64: [Unreached]]
    {
        guard !sessions.isEmpty else { return [:] }
        var panels: [Int64: [Int64]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT session_id, expert_id FROM session_panel
                WHERE session_id IN (SELECT value FROM json_each(?)) ORDER BY session_id, requirement_index, rowid
                """, arguments: [jsonIDs(sessions.map(\.id))])
        {
            let r = StoredRow(row, table: "session_panel")
            panels[try r.value(Column("session_id")), default: []].append(try r.value(Column("expert_id")))
        }
        // Each expert's reach once, however many sessions they sit on.
        var experts: [Int64: (name: String, why: FieldProblem?)] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT id, name, email, mobile, wecom_user_id, dingtalk_mobile, preferred_channel FROM expert
                WHERE id IN (SELECT value FROM json_each(?))
                """, arguments: [jsonIDs(Set(panels.values.joined()))])
        {
            let r = StoredRow(row, table: "expert")
            let name: String = try r.value(Column("name"))
            experts[try r.value(Column("id"))] = (
                name,
                Reach.unreachableExpert(
                    name: name, email: try r.optional(Column("email")), mobile: try r.optional(Column("mobile")),
                    wecomUser: try r.optional(Column("wecom_user_id")),
                    dingtalkMobile: try r.optional(Column("dingtalk_mobile")),
                    preference: try r.optional(Column("preferred_channel")), available: available)
            )
        }
        var parties: [Int64: [Unreached]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT id, dispute_id, name, email, mobile, channel FROM party
                WHERE dispute_id IN (SELECT value FROM json_each(?)) ORDER BY id
                """, arguments: [jsonIDs(Set(sessions.map(\.dispute)))])
        {
            let r = StoredRow(row, table: "party")
            let party = Party(
                id: try r.value(Column("id")), disputeId: try r.value(Column("dispute_id")),
                name: try r.value(Column("name")), side: .other, mobile: try r.optional(Column("mobile")),
                email: try r.optional(Column("email")), channel: try r.optional(Column("channel")))
            guard let why = Reach.unreachable(party, available) else { continue }
            parties[party.disputeId, default: []].append(
                Unreached(kind: .party, id: party.id, name: party.name, why: why))
        }
        var result: [Int64: [Unreached]] = [:]
        for s in sessions {
            var people: [Unreached] = []
            for id in panels[s.id] ?? [] {
                guard let e = experts[id], let why = e.why else { continue }
                people.append(Unreached(kind: .expert, id: id, name: e.name, why: why))
            }
            result[s.id] = people + (parties[s.dispute] ?? [])
        }
        return result
    }

    static func disputeNumbers(_ ids: Set<Int64>, _ db: Database) throws -> [Int64: String] {
        try Row.fetchAll(
            db, sql: "SELECT id, number FROM dispute WHERE id IN (SELECT value FROM json_each(?))",
            arguments: [jsonIDs(Array(ids))]
        ).reduce(into: [Int64: String]()) { map, row in
            let r = StoredRow(row, table: "dispute")
            let id: Int64 = try r.value(Column("id"))
            map[id] = try r.value(Column("number")) as String
        }
    }
}
