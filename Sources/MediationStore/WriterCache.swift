import Foundation
import GRDB
import MediationCore

/// What a booking's re-check reads every time and what rarely changes, kept on the writer between bookings: experts,
/// their leave and extra hours, conflicts of interest, offices and panel policies. Reading and decoding them was a
/// fifth of the single writer's time per booking; the rest is the experts' other sessions, the writes and the
/// commit, which no cache can spare.
///
/// Exact, not timed. A transaction observer on the writer connection:
/// - drops a table's entries at the first change to that table (GRDB reports a change made inside a savepoint when
///   the savepoint is released, and never one that was rolled back with it);
/// - drops everything when a transaction rolls back, since an entry may have been read after a change that is gone;
/// - and drops everything when another connection has committed since its last use (`PRAGMA data_version`, looked
///   at once per transaction): an administrator's sqlite3, say.
///
/// The cached tables are written only by writes that never book in the same savepoint (adding an expert, recording
/// leave), so a booking never reads through the cache a change its own savepoint made.
///
/// Only the writer connection's queue touches it (the booking paths run there, and GRDB calls its observers there):
/// that is what makes the unchecked `Sendable` true.
final class WriterCache: TransactionObserver, @unchecked Sendable {
    private var experts: [Int64: Expert] = [:]
    private var timeOff: [Int64: [Interval]] = [:]
    private var extra: [Int64: [Interval]] = [:]
    private var conflicts: [Int64: [Conflict]] = [:]
    private var offices: [String: Office] = [:]
    private var policies: [String: [PanelPolicy]] = [:]
    private var dataVersion: Int64?

    /// The tables whose rows the cache holds.
    static let tables: Set<String> = [
        "expert", "expert_time_off", "expert_extra_availability", "conflict", "office", "panel_policy",
    ]

    /// False once a transaction has ended: the next use asks SQLite whether another connection committed since.
    /// None can commit while this connection writes, so once per transaction is enough.
    private var checkedThisTransaction = false

    /// Drops everything when another connection has committed since the last look.
    private func refresh(_ db: Database) throws {
        if checkedThisTransaction { return }
        let version = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version"))
        if version != dataVersion {
            dropAll()
            dataVersion = version
        }
        checkedThisTransaction = true
    }

    /// The experts among `ids` that exist, by id.
    func experts(_ ids: [Int64], _ db: Database) throws -> [Int64: Expert] {
        try refresh(db)
        let missing = ids.filter { experts[$0] == nil }
        if !missing.isEmpty {
            for record in try ExpertRecord.fetchAll(
                cached: db, sql: "SELECT * FROM expert WHERE id IN (SELECT value FROM json_each(?))",
                arguments: [jsonIDs(missing)])
            {
                experts[record.expert.id] = record.expert
            }
        }
        var found: [Int64: Expert] = [:]
        for id in ids { if let expert = experts[id] { found[id] = expert } }
        return found
    }

    /// Every conflict recorded for the experts `ids`.
    func conflicts(of ids: [Int64], _ db: Database) throws -> [Conflict] {
        try refresh(db)
        let missing = ids.filter { conflicts[$0] == nil }
        if !missing.isEmpty {
            for id in missing { conflicts[id] = [] }
            for record in try ConflictRecord.fetchAll(
                cached: db,
                sql: "SELECT * FROM conflict WHERE expert_id IN (SELECT value FROM json_each(?)) ORDER BY id",
                arguments: [jsonIDs(missing)])
            {
                conflicts[record.conflict.expertId, default: []].append(record.conflict)
            }
        }
        return ids.flatMap { conflicts[$0] ?? [] }
    }

    /// Each of the experts' leave (`.timeOff`) or extra hours (`.extra`) that overlaps `horizon`, by expert, in the
    /// order of the table's rows.
    func spans(_ kind: AppDatabase.SpanKind, of ids: [Int64], overlapping horizon: Interval, _ db: Database) throws
        -> [Int64: [Interval]]
    {
        try refresh(db)
        var cached = kind == .timeOff ? timeOff : extra
        let missing = ids.filter { cached[$0] == nil }
        if !missing.isEmpty {
            for id in missing { cached[id] = [] }
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT expert_id, starts_at, ends_at FROM \(kind.rawValue) WHERE expert_id IN "
                        + "(SELECT value FROM json_each(?)) ORDER BY expert_id, id"),
                arguments: [jsonIDs(missing)])
            while let row = try rows.next() {
                let start: Double = row[1]
                let end: Double = row[2]
                cached[row[0] as Int64, default: []].append(
                    Interval(start: Date(timeIntervalSince1970: start), end: Date(timeIntervalSince1970: end)))
            }
            if kind == .timeOff { timeOff = cached } else { extra = cached }
        }
        var overlapping: [Int64: [Interval]] = [:]
        for id in ids {
            let spans = (cached[id] ?? []).filter { $0.start < horizon.end && $0.end > horizon.start }
            if !spans.isEmpty { overlapping[id] = spans }
        }
        return overlapping
    }

    /// The office `id`, or nil when there is none.
    func office(_ id: String, _ db: Database) throws -> Office? {
        try refresh(db)
        if let office = offices[id] { return office }
        let office = try OfficeRecord.fetchOne(cached: db, sql: "SELECT * FROM office WHERE id = ?", arguments: [id])?
            .office
        if let office { offices[id] = office }
        return office
    }

    /// The panel policy `name` (none or one).
    func policies(named name: String, _ db: Database) throws -> [PanelPolicy] {
        try refresh(db)
        if let found = policies[name] { return found }
        let found = try AppDatabase.fetchPolicies(db, name: name)
        policies[name] = found
        return found
    }

    // MARK: TransactionObserver

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        Self.tables.contains(eventKind.tableName.lowercased())
    }

    func databaseDidChange(with event: DatabaseEvent) {
        switch event.tableName.lowercased() {
        case "expert": experts = [:]
        case "expert_time_off": timeOff = [:]
        case "expert_extra_availability": extra = [:]
        case "conflict": conflicts = [:]
        case "office": offices = [:]
        case "panel_policy": policies = [:]
        default: dropAll()
        }
    }

    func databaseDidCommit(_ db: Database) { checkedThisTransaction = false }

    func databaseDidRollback(_ db: Database) {
        dropAll()
        checkedThisTransaction = false
    }

    private func dropAll() {
        experts = [:]
        timeOff = [:]
        extra = [:]
        conflicts = [:]
        offices = [:]
        policies = [:]
    }
}
