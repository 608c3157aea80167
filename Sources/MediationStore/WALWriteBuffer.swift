import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Gathers a group commit's write-ahead-log frames into a few large writes.
///
/// SQLite writes each frame of a commit with two `pwrite` calls, its 24-byte header and then the page, so a group
/// commit of four bookings (about forty frames) made about eighty system calls before its fsync. This VFS hands
/// everything to the system's default VFS and changes one thing: while the group committer's COMMIT runs
/// (`startGathering` … `stopGathering`), writes to that connection's `-wal` file that follow one another are kept in
/// memory and handed over in pieces of 64 KiB (the unix VFS writes at most 128 KiB − 1 bytes a call). At any
/// other time every write goes straight through, so frames that a large transaction spills while it runs, and
/// that a rollback would abandon, never wait in memory.
///
/// Within the COMMIT, the header of the frame that commits (24 bytes whose second word, the database's size in
/// pages, is not zero: SQLite's documented WAL format) goes out at once with what is before it, and its page right
/// after. SQLite publishes the commit in the shared WAL index only after both (and, with `synchronous=FULL`, after
/// syncing them), so no other connection can see a frame that is not in the file, and a power cut leaves the
/// same log as without the buffer. Anything else done with the file (a read, a sync, a truncate, its size, a file
/// control, closing it) and any write that does not follow what is buffered hands the buffer over first.
///
/// `install()` first commits through the buffer on a scratch database, with NORMAL and FULL, spilling and
/// rewriting frames; another connection must read each commit at once, and a copy of the files taken right after
/// it must hold it. If not (a SQLite that writes frames in another way), the buffer stays off and SQLite writes as
/// it always does.
enum WALWriteBuffer {
    /// The VFS's name, registered once `install()` has run.
    static let name = "mediation-wal-buffer"

    /// Registers the VFS, checks it on a scratch database in `folder` (the store's own, which the daemon can write;
    /// else the temporary folder), and makes it the process's default only if the check passed. Once per process;
    /// later calls return the first answer.
    @discardableResult
    static func install(checkingIn folder: String? = nil) -> Bool {
        state.withLock { installed in
            if let installed { return installed }
            let answer = register(
                checkingIn: folder.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory)
            installed = answer
            return answer
        }
    }

    private static let state = Mutex<Bool?>(nil)

    /// The answer of the first `install()`, or nil when nothing has installed it yet (no writable store opened).
    static var installed: Bool? { state.withLock { $0 } }

    /// Gathers the connection's log writes from now until `stopGathering`. Call it just before the COMMIT of the
    /// caller's transaction (the last thing in a GRDB `inTransaction` body), and `stopGathering` once that has
    /// returned or thrown. Only the frames of that COMMIT are gathered: frames that a large transaction spills to
    /// the log while it runs go out as SQLite writes them, so nothing written for a transaction that is then
    /// rolled back waits in memory.
    static func startGathering(_ db: Database) {
        guard let file = walFile(db) else { return }
        pending(file).gathering = true
    }

    /// Hands over whatever is still gathered and stops gathering.
    static func stopGathering(_ db: Database) {
        guard let file = walFile(db) else { return }
        _ = flush(file)
        let p = pending(file)
        p.gathering = false
        // A commit header SQLite rewrote alone (its checksum pass) has no page after it to clear this.
        p.commitFrameHeader = false
    }

    /// Runs `commit` (the caller's COMMIT) with the log writes gathered.
    static func gathering<T>(_ db: Database, _ commit: () throws -> T) throws -> T {
        startGathering(db)
        defer { stopGathering(db) }
        return try commit()
    }

    /// The connection's write-ahead log when it is one of ours.
    private static func walFile(_ db: Database) -> UnsafeMutablePointer<sqlite3_file>? {
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) == SQLITE_OK,
            let file, file.pointee.pMethods == UnsafePointer(methods)
        else { return nil }
        return file
    }

    /// For a connection's write-ahead log: how many writes SQLite asked for, and how many reached the system.
    /// Nil when the log is not gathered (or not open yet). Call it on the connection's own queue.
    static func counts(_ db: Database) -> (asked: Int, made: Int)? {
        guard let file = walFile(db) else { return nil }
        let p = pending(file)
        return (p.asked, p.made)
    }

    private static func register(checkingIn folder: URL) -> Bool {
        guard let base = sqlite3_vfs_find(nil) else { return false }
        baseVFS = base
        let vfs = UnsafeMutablePointer<sqlite3_vfs>.allocate(capacity: 1)
        vfs.initialize(to: base.pointee)
        vfs.pointee.pNext = nil
        vfs.pointee.szOsFile = base.pointee.szOsFile + Int32(header)
        vfs.pointee.zName = UnsafePointer(strdup(name))
        vfs.pointee.xOpen = open
        guard sqlite3_vfs_register(vfs, 0) == SQLITE_OK, selfCheck(in: folder) else { return false }
        return sqlite3_vfs_register(vfs, 1) == SQLITE_OK
    }

    /// Commits through the buffer, large and small, with `synchronous` NORMAL and FULL: each must be read back at
    /// once by a connection through the default VFS, and be in the files as a power cut would leave them (copied
    /// before the writer does anything else). The large ones spill through a tiny page cache and then change
    /// spilled pages again, so SQLite rewrites frames in place and their checksums before it commits.
    private static func selfCheck(in folder: URL) -> Bool {
        let directory = folder.appendingPathComponent(
            ".mediation-wal-check-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("check.sqlite").path
            let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
            let writer = try DatabaseQueue(path: "file:\(encoded)?vfs=\(name)")
            let reader = try DatabaseQueue(path: "file:\(encoded)?vfs=unix")
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA cache_size = 8")
                try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
            }
            var expected = 0
            for (round, (sync, rows)) in [("NORMAL", 1), ("NORMAL", 300), ("FULL", 1), ("FULL", 300)].enumerated() {
                try writer.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = \(sync)")
                    try db.beginTransaction()
                    for _ in 0..<rows { try db.execute(sql: "INSERT INTO t (v) VALUES (zeroblob(700))") }
                    try db.execute(sql: "UPDATE t SET v = zeroblob(701) WHERE id IN (SELECT min(id) FROM t)")
                    try gathering(db) { try db.commit() }
                }
                expected += rows
                guard try reader.read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }) == expected
                else { return false }
                let copy = directory.appendingPathComponent("copy\(round).sqlite").path
                for suffix in ["", "-wal"] {
                    try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix)
                }
                let cut = try DatabaseQueue(path: "file:\(copy)?vfs=unix")
                guard try cut.read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }) == expected,
                    try cut.read({ db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }) == ["ok"]
                else { return false }
            }
            return try reader.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"]
        } catch {
            return false
        }
    }

    /// Our part of each gathered file: SQLite's methods pointer, then the buffer. The default VFS's own file follows.
    private static let header = 16
    nonisolated(unsafe) private static var baseVFS: UnsafeMutablePointer<sqlite3_vfs>?

    /// Writes not yet handed over: `bytes` belong at `offset` in the file.
    final class Pending {
        var offset: Int64 = 0
        var bytes: [UInt8] = []
        /// The last write was the header of the frame that commits: its page comes next, and then the commit is
        /// complete.
        var commitFrameHeader = false
        /// True while the group committer's COMMIT runs: the only time writes are gathered.
        var gathering = false
        /// Writes SQLite asked for, and writes handed to the default VFS.
        var asked = 0
        var made = 0
        /// Above this, what is buffered is handed over first.
        static let limit = 1 << 20
    }

    private static func real(_ file: UnsafeMutablePointer<sqlite3_file>?) -> UnsafeMutablePointer<sqlite3_file> {
        UnsafeMutableRawPointer(file!).advanced(by: header).assumingMemoryBound(to: sqlite3_file.self)
    }

    private static func slot(_ file: UnsafeMutablePointer<sqlite3_file>?) -> UnsafeMutablePointer<
        UnsafeMutableRawPointer?
    > {
        UnsafeMutableRawPointer(file!).advanced(by: 8).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    }

    private static func pending(_ file: UnsafeMutablePointer<sqlite3_file>?) -> Pending {
        Unmanaged<Pending>.fromOpaque(slot(file).pointee!).takeUnretainedValue()
    }

    private static let piece = 1 << 16

    /// Hands what is buffered to the default VFS, in pieces of at most 64 KiB.
    private static func flush(_ file: UnsafeMutablePointer<sqlite3_file>?) -> Int32 {
        let p = pending(file)
        guard !p.bytes.isEmpty else { return SQLITE_OK }
        let target = real(file)
        let rc = p.bytes.withUnsafeBytes { raw -> Int32 in
            var done = 0
            while done < raw.count {
                let n = min(piece, raw.count - done)
                let rc = target.pointee.pMethods.pointee.xWrite!(
                    target, raw.baseAddress! + done, Int32(n), p.offset + Int64(done))
                p.made += 1
                guard rc == SQLITE_OK else { return rc }
                done += n
            }
            return SQLITE_OK
        }
        p.bytes.removeAll(keepingCapacity: true)
        p.commitFrameHeader = false
        return rc
    }

    /// Runs `operation` on the default VFS's file once the buffer is handed over.
    private static func flushed(
        _ file: UnsafeMutablePointer<sqlite3_file>?, _ operation: (UnsafeMutablePointer<sqlite3_file>) -> Int32
    ) -> Int32 {
        let rc = flush(file)
        return rc == SQLITE_OK ? operation(real(file)) : rc
    }

    private static let open:
        @convention(c) (
            UnsafeMutablePointer<sqlite3_vfs>?, UnsafePointer<CChar>?, UnsafeMutablePointer<sqlite3_file>?, Int32,
            UnsafeMutablePointer<Int32>?
        ) -> Int32 = { _, name, file, flags, outFlags in
            guard let base = baseVFS, let file else { return SQLITE_CANTOPEN }
            // Every file but a write-ahead log is the default VFS's own, with its own methods.
            guard flags & SQLITE_OPEN_WAL != 0 else { return base.pointee.xOpen!(base, name, file, flags, outFlags) }
            file.pointee.pMethods = nil
            let rc = base.pointee.xOpen!(base, name, real(file), flags, outFlags)
            guard rc == SQLITE_OK else { return rc }
            slot(file).pointee = Unmanaged.passRetained(Pending()).toOpaque()
            file.pointee.pMethods = UnsafePointer(methods)
            return SQLITE_OK
        }

    /// One write: buffered when it follows what is buffered, handed over with it once the commit is complete.
    private static func write(
        _ file: UnsafeMutablePointer<sqlite3_file>?, _ buffer: UnsafeRawPointer?, _ amount: Int32, _ offset: Int64
    ) -> Int32 {
        let p = pending(file)
        p.asked += 1
        guard p.gathering else {
            // Outside a gathered COMMIT every write goes straight through, as SQLite made it.
            let rc = flush(file)
            guard rc == SQLITE_OK else { return rc }
            p.made += 1
            let target = real(file)
            return target.pointee.pMethods.pointee.xWrite!(target, buffer, amount, offset)
        }
        if !p.bytes.isEmpty, offset != p.offset + Int64(p.bytes.count) || p.bytes.count + Int(amount) > Pending.limit {
            let rc = flush(file)
            guard rc == SQLITE_OK else { return rc }
        }
        if p.bytes.isEmpty { p.offset = offset }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(amount))
        p.bytes.append(contentsOf: bytes)
        if p.commitFrameHeader {
            // The page of the frame that commits: the commit's frames are all in the file once this is.
            return flush(file)
        }
        // A frame header is 24 bytes (pages are at least 512); its second word is the database's size in pages
        // in the frame that commits, zero in any other. Such a header goes out at once, with what is before it:
        // SQLite may rewrite it alone (a checksum pass) just before it publishes the commit.
        if amount == 24, offset >= 32, bytes[4] | bytes[5] | bytes[6] | bytes[7] != 0 {
            let rc = flush(file)
            p.commitFrameHeader = true
            return rc
        }
        return SQLITE_OK
    }

    nonisolated(unsafe) private static let methods: UnsafeMutablePointer<sqlite3_io_methods> = {
        let m = UnsafeMutablePointer<sqlite3_io_methods>.allocate(capacity: 1)
        m.initialize(
            to: sqlite3_io_methods(
                iVersion: 3,
                xClose: { file in
                    let rc = flush(file)
                    let target = real(file)
                    let closed = target.pointee.pMethods.pointee.xClose!(target)
                    Unmanaged<Pending>.fromOpaque(slot(file).pointee!).release()
                    slot(file).pointee = nil
                    return rc != SQLITE_OK ? rc : closed
                },
                xRead: { file, buffer, amount, offset in
                    flushed(file) { $0.pointee.pMethods.pointee.xRead!($0, buffer, amount, offset) }
                },
                xWrite: { file, buffer, amount, offset in write(file, buffer, amount, offset) },
                xTruncate: { file, size in
                    flushed(file) { $0.pointee.pMethods.pointee.xTruncate!($0, size) }
                },
                xSync: { file, flags in
                    flushed(file) { $0.pointee.pMethods.pointee.xSync!($0, flags) }
                },
                xFileSize: { file, size in
                    flushed(file) { $0.pointee.pMethods.pointee.xFileSize!($0, size) }
                },
                xLock: { file, level in
                    let target = real(file)
                    return target.pointee.pMethods.pointee.xLock!(target, level)
                },
                xUnlock: { file, level in
                    let target = real(file)
                    return target.pointee.pMethods.pointee.xUnlock!(target, level)
                },
                xCheckReservedLock: { file, out in
                    let target = real(file)
                    return target.pointee.pMethods.pointee.xCheckReservedLock!(target, out)
                },
                xFileControl: { file, op, argument in
                    flushed(file) { $0.pointee.pMethods.pointee.xFileControl!($0, op, argument) }
                },
                xSectorSize: { file in
                    let target = real(file)
                    return target.pointee.pMethods.pointee.xSectorSize!(target)
                },
                xDeviceCharacteristics: { file in
                    let target = real(file)
                    return target.pointee.pMethods.pointee.xDeviceCharacteristics!(target)
                },
                xShmMap: { file, region, size, extend, out in
                    let target = real(file)
                    return target.pointee.pMethods.pointee.xShmMap!(target, region, size, extend, out)
                },
                xShmLock: { file, offset, n, flags in
                    let target = real(file)
                    return target.pointee.pMethods.pointee.xShmLock!(target, offset, n, flags)
                },
                xShmBarrier: { file in
                    let target = real(file)
                    target.pointee.pMethods.pointee.xShmBarrier!(target)
                },
                xShmUnmap: { file, delete in
                    let target = real(file)
                    return target.pointee.pMethods.pointee.xShmUnmap!(target, delete)
                },
                xFetch: { file, offset, amount, out in
                    flushed(file) { $0.pointee.pMethods.pointee.xFetch!($0, offset, amount, out) }
                },
                xUnfetch: { file, offset, pointer in
                    let target = real(file)
                    return target.pointee.pMethods.pointee.xUnfetch!(target, offset, pointer)
                }))
        return m
    }()
}
