import Foundation
import GRDB
import MediationCore
import Synchronization

/// Dated windows in one text column: `start-end` in Unix seconds, comma-separated.
enum IntervalsColumn {
    static func encode(_ intervals: [Interval]) -> String {
        intervals.map { "\(Int64($0.start.timeIntervalSince1970))-\(Int64($0.end.timeIntervalSince1970))" }
            .joined(separator: ",")
    }

    static func decode(_ text: String) -> [Interval] {
        text.split(separator: ",").compactMap { pair in
            let ends = pair.split(separator: "-").compactMap { Int64($0) }
            guard ends.count == 2 else { return nil }
            return Interval(
                start: Date(timeIntervalSince1970: TimeInterval(ends[0])),
                end: Date(timeIntervalSince1970: TimeInterval(ends[1])))
        }
    }
}

/// A row of `dispute`.
struct DisputeRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "dispute"
    var dispute: Dispute
    var year: Int
    var sequence: Int
    var updatedAt: Date

    init(_ dispute: Dispute, year: Int, sequence: Int, updatedAt: Date) {
        self.dispute = dispute
        self.year = year
        self.sequence = sequence
        self.updatedAt = updatedAt
    }

    init(row: Row) throws {
        let risk: String = row["risk"]
        let status: String = row["status"]
        dispute = Dispute(
            id: row["id"], number: row["number"], officeId: row["office_id"], title: row["title"],
            category: row["category"],
            elements: DisputeElements(
                cause: row["cause"], occurredAt: row.optionalDate("occurred_at"), location: row["location"],
                nature: row["nature"],
                scale: row["scale"], involved: row["involved"], development: row["development"]),
            risk: RiskLevel(rawValue: risk) ?? .low, status: DisputeStatus(rawValue: status) ?? .open,
            openedAt: row.date("opened_at"), closedAt: row.optionalDate("closed_at"))
        year = row["year"]
        sequence = row["sequence"]
        updatedAt = row.date("updated_at")
    }

    func encode(to c: inout PersistenceContainer) throws {
        c["id"] = dispute.id == 0 ? nil : dispute.id
        c["number"] = dispute.number
        c["office_id"] = dispute.officeId
        c["year"] = year
        c["sequence"] = sequence
        c["title"] = dispute.title
        c["category"] = dispute.category
        c["cause"] = dispute.elements.cause
        c["occurred_at"] = dispute.elements.occurredAt?.epoch
        c["location"] = dispute.elements.location
        c["nature"] = dispute.elements.nature
        c["scale"] = dispute.elements.scale
        c["involved"] = dispute.elements.involved
        c["development"] = dispute.elements.development
        c["risk"] = dispute.risk.rawValue
        c["status"] = dispute.status.rawValue
        c["opened_at"] = dispute.openedAt.epoch
        c["closed_at"] = dispute.closedAt?.epoch
        c["updated_at"] = updatedAt.epoch
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { dispute.id = inserted.rowID }
}

/// A row of `party`.
struct PartyRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "party"
    var party: Party

    init(_ party: Party) { self.party = party }

    init(row: Row) throws {
        let side: String = row["side"]
        party = Party(
            id: row["id"], disputeId: row["dispute_id"], name: row["name"], side: PartySide(rawValue: side) ?? .other,
            mobile: row["mobile"], email: row["email"], idCard: row["id_card"], organisation: row["organisation"],
            language: row["language"], timeZone: row["time_zone"],
            weeklyWindows: WindowsColumn.decode(row["weekly_windows"]),
            datedWindows: IntervalsColumn.decode(row["dated_windows"]))
    }

    func encode(to c: inout PersistenceContainer) throws {
        c["id"] = party.id == 0 ? nil : party.id
        c["dispute_id"] = party.disputeId
        c["name"] = party.name
        c["side"] = party.side.rawValue
        c["mobile"] = party.mobile
        c["email"] = party.email
        c["id_card"] = party.idCard
        c["organisation"] = party.organisation
        c["language"] = party.language
        c["time_zone"] = party.timeZone
        c["weekly_windows"] = WindowsColumn.encode(party.weeklyWindows)
        c["dated_windows"] = IntervalsColumn.encode(party.datedWindows)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { party.id = inserted.rowID }
}

/// A row of `conflict`.
struct ConflictRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "conflict"
    var conflict: Conflict
    var createdAt: Date

    init(_ conflict: Conflict, createdAt: Date) {
        self.conflict = conflict
        self.createdAt = createdAt
    }

    init(row: Row) throws {
        conflict = Conflict(
            id: row["id"], expertId: row["expert_id"], partyId: row["party_id"], organisation: row["organisation"],
            reason: row["reason"])
        createdAt = row.date("created_at")
    }

    func encode(to c: inout PersistenceContainer) throws {
        c["id"] = conflict.id == 0 ? nil : conflict.id
        c["expert_id"] = conflict.expertId
        c["party_id"] = conflict.partyId
        c["organisation"] = conflict.organisation
        c["reason"] = conflict.reason
        c["created_at"] = createdAt.epoch
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { conflict.id = inserted.rowID }
}

/// Panel requirements in one text column, in the form `PanelRequirement(parsing:)` reads, `;`-separated.
enum RequirementsColumn {
    static func encode(_ requirements: [PanelRequirement]) -> String {
        requirements.map(\.description).joined(separator: ";")
    }

    static func decode(_ text: String) -> [PanelRequirement] {
        // Every booking reads its policy; the few distinct texts are parsed once.
        if let known = parsed.withLock({ $0[text] }) { return known }
        let requirements = text.split(separator: ";").compactMap { try? PanelRequirement(parsing: String($0)) }
        parsed.withLock { cache in
            if cache.count > 256 { cache.removeAll() }
            cache[text] = requirements
        }
        return requirements
    }

    private static let parsed = Mutex<[String: [PanelRequirement]]>([:])
}
