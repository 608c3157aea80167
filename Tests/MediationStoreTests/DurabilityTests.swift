import Foundation
import GRDB
import MediationCore
import Testing

@testable import MediationStore

/// The settings the architecture promises for the file-backed store.
@Test func fileStoreIsWALWithFullSyncAndForeignKeys() async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("durability-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let db = try AppDatabase.open(path: dir.appendingPathComponent("m.sqlite").path)
    let (mode, sync, keys) = try await db.writer.write { db in
        (
            try String.fetchOne(db, sql: "PRAGMA journal_mode"),
            try Int.fetchOne(db, sql: "PRAGMA synchronous"),
            try Int.fetchOne(db, sql: "PRAGMA foreign_keys")
        )
    }
    #expect(mode == "wal")
    #expect(sync == 2, "synchronous=FULL is 2")
    #expect(keys == 1)
    let readerSync = try await db.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
    #expect(readerSync == 2)
    #expect(db.writer is DatabasePool)
}

/// The compact column forms read back exactly what was written.
@Test func columnFormsRoundTrip() throws {
    let windows = try WeeklyWindow.parseList(
        "mon 09:00-12:00 14:00-17:30; sun 19:00-24:00; wed 00:00-00:30", field: "t")
    #expect(WindowsColumn.decode(WindowsColumn.encode(windows)) == windows)
    #expect(WindowsColumn.decode("") == [])
    #expect(TagColumn.decode(TagColumn.encode(["a-b", "上海话"])) == ["a-b", "上海话"])
    #expect(TagColumn.encode([]) == "")
    #expect(TagColumn.pattern("50%_off") == "%|50\\%\\_off|%")
}
