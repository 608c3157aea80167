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

    /// The windows, or nil when the text is not in this form (a window that does not read is never dropped).
    static func decode(_ text: String) -> [Interval]? {
        var result: [Interval] = []
        for pair in text.split(separator: ",", omittingEmptySubsequences: false) where !text.isEmpty {
            let ends = pair.split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count == 2, let start = Int64(ends[0]), let end = Int64(ends[1]), start < end else { return nil }
            result.append(
                Interval(
                    start: Date(timeIntervalSince1970: TimeInterval(start)),
                    end: Date(timeIntervalSince1970: TimeInterval(end))))
        }
        return result
    }

    /// The form as an error names it.
    static let form = "dated windows in the form 1765170000-1765177200,… (start-end in Unix seconds)"
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

    enum Columns {
        static let id = Column("id")
        static let number = Column("number")
        static let officeId = Column("office_id")
        static let year = Column("year")
        static let sequence = Column("sequence")
        static let title = Column("title")
        static let category = Column("category")
        static let cause = Column("cause")
        static let occurredAt = Column("occurred_at")
        static let location = Column("location")
        static let nature = Column("nature")
        static let scale = Column("scale")
        static let involved = Column("involved")
        static let development = Column("development")
        static let risk = Column("risk")
        static let status = Column("status")
        static let openedAt = Column("opened_at")
        static let closedAt = Column("closed_at")
        static let updatedAt = Column("updated_at")
    }

    /// - Throws: `unavailable` naming the column and the dispute when a value cannot be read.
    init(row: Row) throws {
        let r = StoredRow(row, table: Self.databaseTableName)
        dispute = Dispute(
            id: try r.value(Columns.id), number: try r.value(Columns.number), officeId: try r.value(Columns.officeId),
            title: try r.value(Columns.title), category: try r.value(Columns.category),
            elements: DisputeElements(
                cause: try r.optional(Columns.cause), occurredAt: try r.optionalDate(Columns.occurredAt),
                location: try r.optional(Columns.location), nature: try r.optional(Columns.nature),
                scale: try r.optional(Columns.scale), involved: try r.optional(Columns.involved),
                development: try r.optional(Columns.development)),
            risk: try r.value(Columns.risk), status: try r.value(Columns.status),
            openedAt: try r.date(Columns.openedAt), closedAt: try r.optionalDate(Columns.closedAt))
        year = try r.value(Columns.year)
        sequence = try r.value(Columns.sequence)
        updatedAt = try r.date(Columns.updatedAt)
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

    enum Columns {
        static let id = Column("id")
        static let disputeId = Column("dispute_id")
        static let name = Column("name")
        static let side = Column("side")
        static let mobile = Column("mobile")
        static let email = Column("email")
        static let idCard = Column("id_card")
        static let organisation = Column("organisation")
        static let language = Column("language")
        static let timeZone = Column("time_zone")
        static let weeklyWindows = Column("weekly_windows")
        static let datedWindows = Column("dated_windows")
        static let channel = Column("channel")
    }

    /// - Throws: `unavailable` naming the column and the party when a value cannot be read.
    init(row: Row) throws {
        let r = StoredRow(row, table: Self.databaseTableName)
        party = Party(
            id: try r.value(Columns.id), disputeId: try r.value(Columns.disputeId), name: try r.value(Columns.name),
            side: try r.value(Columns.side), mobile: try r.optional(Columns.mobile),
            email: try r.optional(Columns.email),
            idCard: try r.optional(Columns.idCard), organisation: try r.optional(Columns.organisation),
            language: try r.optional(Columns.language), timeZone: try r.zone(Columns.timeZone).identifier,
            weeklyWindows: try r.parsed(Columns.weeklyWindows, as: WindowsColumn.form, WindowsColumn.decode),
            datedWindows: try r.parsed(Columns.datedWindows, as: IntervalsColumn.form, IntervalsColumn.decode),
            channel: try r.optional(Columns.channel))
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
        c["channel"] = party.channel?.rawValue
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

    enum Columns {
        static let id = Column("id")
        static let expertId = Column("expert_id")
        static let partyId = Column("party_id")
        static let organisation = Column("organisation")
        static let reason = Column("reason")
        static let createdAt = Column("created_at")
    }

    /// - Throws: `unavailable` naming the column and the conflict when a value cannot be read.
    init(row: Row) throws {
        let r = StoredRow(row, table: Self.databaseTableName)
        conflict = Conflict(
            id: try r.value(Columns.id), expertId: try r.value(Columns.expertId),
            partyId: try r.optional(Columns.partyId),
            organisation: try r.optional(Columns.organisation), reason: try r.optional(Columns.reason))
        createdAt = try r.date(Columns.createdAt)
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

    /// The requirements, or nil when one of them does not read (a seat is never dropped).
    static func decode(_ text: String) -> [PanelRequirement]? {
        // Every booking reads its policy; the few distinct texts are parsed once.
        if let known = parsed.withLock({ $0[text] }) { return known }
        var requirements: [PanelRequirement] = []
        for part in text.split(separator: ";") {
            guard let requirement = try? PanelRequirement(parsing: String(part)) else { return nil }
            requirements.append(requirement)
        }
        parsed.withLock { cache in
            if cache.count > 256 { cache.removeAll() }
            cache[text] = requirements
        }
        return requirements
    }

    /// The form as an error names it.
    static let form =
        "panel requirements such as legal_officer;lawyer:property (role[:specialty][@language], ;-separated)"

    private static let parsed = Mutex<[String: [PanelRequirement]]>([:])
}
