import Foundation
import GRDB
import GRDBSQLite
import Testing

@testable import MediationStore

/// The write-ahead log's frames gathered into a few writes: fewer system calls, and nothing else changes.
struct WALWriteBufferTests {
    private func directory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("walbuffer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A WAL pool as the store opens it (synchronous=FULL on the writer), with one table.
    private func pool(_ path: String, _ configure: (inout Configuration) -> Void = { _ in }) throws -> DatabasePool {
        #expect(WALWriteBuffer.install())
        var config = AppDatabase.configuration()
        configure(&config)
        let pool = try DatabasePool(path: path, configuration: config)
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
        }
        return pool
    }

    @Test func itPassesItsCheckHereAndIsTheDefault() throws {
        #expect(WALWriteBuffer.install())
        #expect(AppDatabase.gathersLogWrites)
        let vfs = try #require(sqlite3_vfs_find(nil))
        #expect(String(cString: vfs.pointee.zName) == WALWriteBuffer.name)
    }

    @Test func aCommitsFramesReachTheSystemInAFewWrites() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pool = try pool(dir.appendingPathComponent("a.sqlite").path)
        let (before, after) = try pool.writeWithoutTransaction { db in
            let before = try #require(WALWriteBuffer.counts(db))
            // About forty pages, as a group commit of four bookings writes.
            try db.inTransaction {
                for _ in 0..<60 { try db.execute(sql: "INSERT INTO t (v) VALUES (zeroblob(2500))") }
                return .commit
            }
            return (before, try #require(WALWriteBuffer.counts(db)))
        }
        let asked = after.asked - before.asked
        let made = after.made - before.made
        // SQLite asks for a header and a page per frame; they reach the system as 64 KiB pieces.
        #expect(asked >= 80, "\(asked)")
        #expect(made >= 1 && made <= 4, "\(made) writes for \(asked)")
        #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 60)
    }

    @Test func everyCommitIsInTheFileBeforeAnyoneSeesItWhateverTheSyncSetting() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("b.sqlite").path
        let pool = try pool(path) { config in
            // A tiny page cache makes a large transaction spill frames into the log before it commits, and read
            // some of them back.
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = 8") }
        }
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        var expected = 0
        for (round, sync) in ["FULL", "NORMAL", "FULL", "NORMAL", "FULL"].enumerated() {
            let rows = round % 2 == 0 ? 400 : 1
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(sync)")
                try db.inTransaction {
                    for i in 0..<rows {
                        try db.execute(sql: "INSERT INTO t (v) VALUES (randomblob(?))", arguments: [300 + i % 900])
                    }
                    return .commit
                }
            }
            expected += rows
            // Another connection, at once.
            #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == expected)
            // A spilled transaction rolled back leaves nothing behind.
            try pool.writeWithoutTransaction { db in
                try db.inTransaction {
                    for _ in 0..<300 { try db.execute(sql: "INSERT INTO t (v) VALUES (randomblob(1000))") }
                    return .rollback
                }
            }
            #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == expected)
            if round == 2 {
                // The log starts again from its beginning after a full checkpoint.
                try pool.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(RESTART)")
                }
            }
        }
        // What a power cut would leave: the files as they are now, while the pool is still open. Opened by the
        // default unix VFS, the copy holds every commit.
        let copy = dir.appendingPathComponent("copy.sqlite").path
        for suffix in ["", "-wal"] {
            try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix)
        }
        let unix = try #require(sqlite3_vfs_find("unix"))
        var handle: OpaquePointer?
        #expect(sqlite3_open_v2(copy, &handle, SQLITE_OPEN_READWRITE, unix.pointee.zName) == SQLITE_OK)
        defer { sqlite3_close(handle) }
        var statement: OpaquePointer?
        #expect(sqlite3_prepare_v2(handle, "SELECT count(*) FROM t", -1, &statement, nil) == SQLITE_OK)
        #expect(sqlite3_step(statement) == SQLITE_ROW)
        #expect(Int(sqlite3_column_int64(statement, 0)) == expected)
        sqlite3_finalize(statement)
        #expect(sqlite3_prepare_v2(handle, "PRAGMA integrity_check", -1, &statement, nil) == SQLITE_OK)
        #expect(sqlite3_step(statement) == SQLITE_ROW)
        #expect(String(cString: sqlite3_column_text(statement, 0)) == "ok")
        sqlite3_finalize(statement)
    }
}
