import Foundation
import GRDB
import MediationCore

extension AppDatabase {
    /// Stores a new office.
    ///
    /// - Throws: `invalidInput` for bad fields, `conflict` when the id is taken.
    public func createOffice(_ office: Office) async throws -> Office {
        let office = try office.validated()
        let now = clock.now()
        return try await write { db in
            if try OfficeRecord.fetchOne(db, key: office.id) != nil {
                throw MediationError.said(
                    .conflict, field: "id",
                    en: "office '\(office.id)' already exists; use 'office update \(office.id)' to change it",
                    zh: "调解室“\(office.id)”已经存在；要修改它，请用 'office update \(office.id)'")
            }
            try OfficeRecord(office, createdAt: now, updatedAt: now).insert(db)
            try self.audit(db, "office.add", "office \(office.id)", "added \(office.name) (\(office.timeZone))")
            return office
        }
    }

    /// Applies `change` to a stored office and saves it if it is still valid.
    ///
    /// - Throws: `notFound`, or `invalidInput` when the changed office is invalid (nothing is written).
    public func updateOffice(_ id: String, _ change: @escaping @Sendable (inout Office) throws -> Void) async throws
        -> Office
    {
        let now = clock.now()
        return try await write { db in
            guard let record = try OfficeRecord.fetchOne(db, key: id.lowercased()) else {
                throw Self.officeNotFound(id, db)
            }
            var office = record.office
            try change(&office)
            office.id = record.office.id
            office = try office.validated()
            try OfficeRecord(office, createdAt: record.createdAt, updatedAt: now).update(db)
            let before = record.office
            try self.audit(
                db, "office.update", "office \(office.id)",
                Self.changed([
                    ("name", before.name, office.name), ("time zone", before.timeZone, office.timeZone),
                    ("address", before.address ?? "-", office.address ?? "-"),
                    ("phone", before.phone ?? "-", office.phone ?? "-"),
                    ("hours", "\(before.workingHours)", "\(office.workingHours)"),
                    ("session minutes", "\(before.defaultSessionMinutes)", "\(office.defaultSessionMinutes)"),
                    ("prefix", before.disputePrefix ?? "-", office.disputePrefix ?? "-"),
                ]))
            return office
        }
    }

    public func office(_ id: String) async throws -> Office {
        try await read { db in
            guard let record = try OfficeRecord.fetchOne(db, key: id.lowercased()) else {
                throw Self.officeNotFound(id, db)
            }
            return record.office
        }
    }

    public func offices() async throws -> [Office] {
        try await read { db in try OfficeRecord.order(OfficeRecord.Columns.id).fetchAll(db).map(\.office) }
    }

    static func officeNotFound(_ id: String, _ db: Database) -> MediationError {
        let known = (try? String.fetchAll(db, sql: "SELECT id FROM office ORDER BY id")) ?? []
        return .said(
            .notFound, field: "office",
            en: "no office '\(id)'; "
                + (known.isEmpty
                    ? "none exist yet: add one with 'office add'" : "known offices: \(known.joined(separator: ", "))"),
            zh: "没有调解室“\(id)”；"
                + (known.isEmpty ? "还没有任何调解室，请先用 'office add' 添加" : "现有调解室：\(known.joined(separator: "、"))"))
    }
}
