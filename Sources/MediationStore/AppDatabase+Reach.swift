import Foundation
import GRDB
import MediationCore

/// A booked session with the people its notices cannot reach personally.
public struct UnreachedSession: Sendable, Equatable {
    public var session: Session
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
            return try Self.unreached([session], db, available: available)[id] ?? []
        }
    }

    /// The booked sessions still to come (of `office`, every office when nil) whose notices cannot reach
    /// someone personally, soonest first: what the dashboard and `status` show, so staff tell those people
    /// another way.
    public func unreachedUpcoming(available: PersonalChannels, office: String? = nil) async throws
        -> [UnreachedSession]
    {
        let now = clock.now()
        return try await read { db in
            var records = try SessionRecord.fetchAll(
                db,
                sql: """
                    SELECT * FROM session WHERE status = 'booked' AND starts_at > ? AND (? IS NULL OR office_id = ?)
                    ORDER BY starts_at, id
                    """,
                arguments: [now.epoch, office, office])
            try SessionRecord.loadPanels(&records, db)
            let sessions = records.map(\.session)
            let found = try Self.unreached(sessions, db, available: available)
            let numbers = try Self.disputeNumbers(Set(sessions.map(\.disputeId)), db)
            var zones: [String: Zone] = [:]
            return try sessions.compactMap { s in
                guard let people = found[s.id], !people.isEmpty else { return nil }
                let zone = try zones[s.officeId] ?? Self.officeZone(s.officeId, db)
                zones[s.officeId] = zone
                return UnreachedSession(
                    session: s, disputeNumber: numbers[s.disputeId] ?? "#\(s.disputeId)", zone: zone, people: people)
            }
        }
    }

    static func unreached(_ sessions: [Session], _ db: Database, available: PersonalChannels) throws
        -> [Int64: [Unreached]]
    {
        let expertIds = Set(sessions.flatMap { $0.panel.map(\.expertId) })
        let disputeIds = Set(sessions.map(\.disputeId))
        guard !sessions.isEmpty else { return [:] }
        let experts = try ExpertRecord.fetchAll(
            db, sql: "SELECT * FROM expert WHERE id IN (SELECT value FROM json_each(?))",
            arguments: [jsonIDs(Array(expertIds))]
        ).reduce(into: [Int64: Expert]()) { $0[$1.expert.id] = $1.expert }
        let parties = try PartyRecord.fetchAll(
            db, sql: "SELECT * FROM party WHERE dispute_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            arguments: [jsonIDs(Array(disputeIds))]
        ).reduce(into: [Int64: [Party]]()) { $0[$1.party.disputeId, default: []].append($1.party) }
        var result: [Int64: [Unreached]] = [:]
        for s in sessions {
            var people: [Unreached] = []
            for seat in s.panel {
                guard let e = experts[seat.expertId], let why = Reach.unreachable(e, available) else { continue }
                people.append(Unreached(kind: .expert, id: e.id, name: e.name, why: why))
            }
            for p in parties[s.disputeId] ?? [] {
                guard let why = Reach.unreachable(p, available) else { continue }
                people.append(Unreached(kind: .party, id: p.id, name: p.name, why: why))
            }
            result[s.id] = people
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
