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
        #expect(AppDatabase.gathersLogWrites == true)
        let vfs = try #require(sqlite3_vfs_find(nil))
        #expect(String(cString: vfs.pointee.zName) == WALWriteBuffer.name)
    }

    /// Runs `body` in a transaction whose COMMIT is gathered, as the group committer does.
    private func gatheredCommit(_ db: Database, _ body: () throws -> Void) throws {
        try db.beginTransaction()
        try body()
        try WALWriteBuffer.gathering(db) { try db.commit() }
    }

    /// Sixty rows of 2,500 bytes (about forty pages, as a group commit of four bookings writes) on a fresh store,
    /// committed gathered or not: the log writes SQLite asked for, and those that reached the system.
    private func writesForSixtyRows(gathered: Bool) throws -> (asked: Int, made: Int) {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pool = try pool(dir.appendingPathComponent("w.sqlite").path)
        let writes = try pool.writeWithoutTransaction { db in
            let before = try #require(WALWriteBuffer.counts(db))
            try db.beginTransaction()
            for _ in 0..<60 { try db.execute(sql: "INSERT INTO t (v) VALUES (zeroblob(2500))") }
            if gathered { try WALWriteBuffer.gathering(db) { try db.commit() } } else { try db.commit() }
            let after = try #require(WALWriteBuffer.counts(db))
            return (asked: after.asked - before.asked, made: after.made - before.made)
        }
        #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 60)
        return writes
    }

    @Test func aGatheredCommitsFramesReachTheSystemInAFewWrites() throws {
        let (asked, made) = try writesForSixtyRows(gathered: true)
        // SQLite asks for a header and a page per frame; they reach the system as 64 KiB pieces, the commit
        // frame's header and page on their own.
        #expect(asked >= 80, "\(asked)")
        #expect(made >= 2 && made <= 6, "\(made) writes for \(asked)")
    }

    @Test func outsideAGatheredCommitEveryWriteGoesStraightThrough() throws {
        let (asked, made) = try writesForSixtyRows(gathered: false)
        #expect(asked >= 80)
        #expect(made == asked)
    }

    /// What a power cut would leave now: the files copied while the pool is still open, opened by SQLite's own
    /// unix VFS (which replays the log). Returns the rows the copy holds, after checking its integrity.
    private func rowsAfterAPowerCut(_ path: String, _ dir: URL) throws -> Int {
        let copy = dir.appendingPathComponent("cut-\(UUID().uuidString).sqlite").path
        for suffix in ["", "-wal"] { try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix) }
        let unix = try #require(sqlite3_vfs_find("unix"))
        var handle: OpaquePointer?
        #expect(sqlite3_open_v2(copy, &handle, SQLITE_OPEN_READWRITE, unix.pointee.zName) == SQLITE_OK)
        defer { sqlite3_close(handle) }
        func one(_ sql: String) throws -> OpaquePointer? {
            var statement: OpaquePointer?
            #expect(sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK)
            #expect(sqlite3_step(statement) == SQLITE_ROW)
            return statement
        }
        let check = try one("PRAGMA integrity_check")
        #expect(String(cString: sqlite3_column_text(check, 0)) == "ok")
        sqlite3_finalize(check)
        let count = try one("SELECT count(*) FROM t")
        defer { sqlite3_finalize(count) }
        return Int(sqlite3_column_int64(count, 0))
    }

    @Test func everyGatheredCommitIsInTheFileBeforeAnyoneSeesItWhateverTheSyncSetting() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("b.sqlite").path
        let pool = try pool(path) { config in
            // A tiny page cache makes a large transaction spill frames into the log before it commits; changing a
            // spilled page again makes SQLite rewrite frames in place and then their checksums, just before the
            // commit is published.
            config.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = 8") }
        }
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        var expected = 0
        for (round, sync) in ["FULL", "NORMAL", "FULL", "NORMAL", "FULL", "NORMAL"].enumerated() {
            let rows = round % 3 == 2 ? 1 : 400
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(sync)")
                try gatheredCommit(db) {
                    for i in 0..<rows {
                        try db.execute(sql: "INSERT INTO t (v) VALUES (randomblob(?))", arguments: [300 + i % 900])
                    }
                    try db.execute(sql: "UPDATE t SET v = randomblob(333) WHERE id IN (SELECT min(id) FROM t)")
                }
            }
            expected += rows
            // In the file the moment the commit returns, and seen at once by another connection.
            #expect(try rowsAfterAPowerCut(path, dir) == expected, "round \(round), \(sync)")
            #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == expected)
            // A spilled transaction rolled back leaves nothing behind, and nothing of it waits to be written: a
            // second writer (another connection, through SQLite's own VFS) then appends where it spilled. The
            // rolled-back one only rewrites rows in place, so it allocates no page and SQLite reads nothing back.
            try pool.writeWithoutTransaction { db in
                try db.inTransaction {
                    try db.execute(sql: "UPDATE t SET v = randomblob(length(v))")
                    return .rollback
                }
            }
            let other = try DatabaseQueue(path: "file:\(path)?vfs=unix")
            try other.write { db in try db.execute(sql: "INSERT INTO t (v) VALUES (randomblob(500))") }
            try other.close()
            expected += 1
            #expect(try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == expected)
            if round == 3 {
                // The log starts again from its beginning after a full checkpoint.
                try pool.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(RESTART)")
                }
            }
        }
        #expect(try rowsAfterAPowerCut(path, dir) == expected)
        #expect(try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
    }
}
