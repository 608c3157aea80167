import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationStore

/// Snapshots, restore checks and the status summary, on real files.
@Suite struct OperationsStoreTests {
    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("operations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func snapshotIsConsistentWhileWritesGoOn() async throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try AppDatabase.open(path: dir.appendingPathComponent("m.sqlite").path)
        for i in 0..<20 { _ = try await db.createOffice(Office(id: "o\(i)", name: "Office \(i)")) }
        let copy = dir.appendingPathComponent("copy.sqlite").path
        async let writes: Void = {
            for i in 20..<60 { _ = try await db.createOffice(Office(id: "o\(i)", name: "Office \(i)")) }
        }()
        let bytes = try await db.snapshot(to: copy)
        try await writes
        #expect(bytes > 0)
        let queue = try DatabaseQueue(path: copy)
        let (count, check) = try await queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM office") ?? 0,
                try String.fetchAll(db, sql: "PRAGMA integrity_check")
            )
        }
        #expect(check == ["ok"])
        #expect((20...60).contains(count), "a snapshot holds a prefix of the writes: \(count)")
        try queue.close()
        // The copy passes the restore checks and names every migration.
        #expect(try StoreFiles.verifyCandidate(copy, named: "copy") == Migrations.migrator.migrations)
        #expect(StoreFiles.hasSQLiteHeader(copy))
    }

    @Test func settleRefusesAStoreThatIsOpenAndFoldsTheLogWhenItIsNot() async throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.sqlite").path
        var db: AppDatabase? = try AppDatabase.open(path: path)
        _ = try await db?.createOffice(Office(id: "jinshan", name: "金山"))
        #expect(throws: MediationError.self) { try StoreFiles.settle(path) }
        do {
            try StoreFiles.settle(path)
        } catch let error as MediationError {
            #expect(error.kind == .conflict && error.message.contains("in use by another process"), "\(error)")
        }
        db = nil
        try StoreFiles.settle(path)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let reopened = try AppDatabase.open(path: path)
        #expect(try await reopened.offices().map(\.id) == ["jinshan"])
    }

    @Test func aFullDiskAndAReadOnlyStoreNameThePlace() {
        let full = AppDatabase.translate(
            DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full"),
            path: "/var/lib/mediationd/mediation.sqlite")
        #expect(
            (full as? MediationError)?.message.hasPrefix(
                "the store cannot be written: disk full at /var/lib/mediationd; free space and retry") == true,
            "\(full)")
        #expect((full as? MediationError)?.kind == .unavailable)
        let readOnly = AppDatabase.translate(
            DatabaseError(resultCode: .SQLITE_READONLY, message: "attempt to write a readonly database"),
            path: "/srv/m.sqlite")
        #expect((readOnly as? MediationError)?.message.contains("/srv/m.sqlite is read-only") == true, "\(readOnly)")
    }

    @Test func summaryCountsTheLastProblemAndTheLastBackup() async throws {
        let db = try AppDatabase.inMemory()
        let empty = try await db.operationsSummary()
        #expect(empty.lastBackup == nil && empty.lastDeliveryProblem == nil && empty.warnings == 0)
        #expect(empty.oldestDue == nil)
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        try await db.recordBackup(BackupRecord(at: at, bytes: 4096, uid: 0, user: "root", destination: "/b.sqlite"))
        let summary = try await db.operationsSummary()
        #expect(summary.lastBackup == BackupRecord(at: at, bytes: 4096, uid: 0, user: "root", destination: "/b.sqlite"))
    }
}
