import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Gathers a commit's write-ahead-log frames into a few large writes.
///
/// SQLite writes each frame of a commit with two `pwrite` calls, its 24-byte header and then the page, so a group
/// commit of four bookings (about forty frames) made about eighty system calls before its fsync. This VFS hands
/// everything to the system's default VFS and changes one thing: writes to a `-wal` file that follow one another
/// are kept in memory and handed over together once the frame that commits the transaction is complete, in
/// pieces of 64 KiB (the unix VFS writes at most 128 KiB − 1 bytes a call).
///
/// Nothing another connection can see changes. SQLite publishes a commit in the shared WAL index only after it
/// has written all of its frames (and, with `synchronous=FULL`, synced them); by then they are in the file. Readers
/// read only published frames. The buffer is also handed over before anything else is done with the file (a read,
/// a sync, a truncate, its size, a file control, closing it) and before a write anywhere but right after it.
///
/// The frame that commits is known by its header: 24 bytes whose second word, the database's size in pages, is
/// not zero (SQLite's documented WAL format). `install()` first checks on a scratch database that another
/// connection reads every commit made through the buffer; if it does not (a SQLite that writes frames in another
/// way), the buffer stays off and SQLite writes as it always does.
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

    /// For a connection's write-ahead log: how many writes SQLite asked for, and how many reached the system.
    /// Nil when the log is not gathered (or not open yet). Call it on the connection's own queue.
    static func counts(_ db: Database) -> (asked: Int, made: Int)? {
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) == SQLITE_OK,
            let file, file.pointee.pMethods == UnsafePointer(methods)
        else { return nil }
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

    /// Commits through the buffer, large and small, with `synchronous` NORMAL and FULL, each read back at once by a
    /// connection through the default VFS.
    private static func selfCheck(in folder: URL) -> Bool {
        let directory = folder.appendingPathComponent(
            ".mediation-wal-check-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("check.sqlite").path
            let encoded = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
            let writer = try DatabaseQueue(path: "file:\(encoded)?vfs=\(name)")
            let reader = try DatabaseQueue(path: path)
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
            }
            var expected = 0
            for (sync, rows) in [("NORMAL", 1), ("NORMAL", 300), ("FULL", 1), ("FULL", 300)] {
                try writer.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = \(sync)")
                    try db.inTransaction {
                        for _ in 0..<rows {
                            try db.execute(sql: "INSERT INTO t (v) VALUES (zeroblob(700))")
                        }
                        return .commit
                    }
                }
                expected += rows
                guard try reader.read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }) == expected
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
        if !p.bytes.isEmpty, offset != p.offset + Int64(p.bytes.count) || p.bytes.count + Int(amount) > Pending.limit {
            let rc = flush(file)
            guard rc == SQLITE_OK else { return rc }
        }
        if p.bytes.isEmpty { p.offset = offset }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(amount))
        p.bytes.append(contentsOf: bytes)
        // A frame: a 24-byte header (pages are at least 512 bytes), or a header and its page in one write. The
        // header's second word is the database's size in pages in the frame that commits, zero in any other.
        let page = Int(amount) - 24
        let frame = page == 0 || (page >= 512 && page & (page - 1) == 0)
        let size: UInt8 = frame && amount >= 24 ? bytes[4] | bytes[5] | bytes[6] | bytes[7] : 0
        let commits = offset >= 32 && size != 0
        if p.commitFrameHeader || (commits && amount > 24) {
            // The commit's last frame is here: SQLite publishes the commit next (after its sync, if any).
            return flush(file)
        }
        if commits { p.commitFrameHeader = true }
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
