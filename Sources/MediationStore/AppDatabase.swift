import Foundation
import GRDB
import MediationCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The one door to the database. Every write is one transaction that keeps the invariants;
/// callers never see SQL, so a second backend can stand behind the same methods later.
///
/// For example:
/// ```swift
/// let db = try AppDatabase.open(path: "var/mediation.sqlite")
/// let office = try await db.createOffice(Office(id: "jinshan", name: "金山警务室"))
/// ```
public final class AppDatabase: Sendable {
    let writer: any DatabaseWriter
    let clock: any WallClock
    /// Bookings share commits: see `GroupCommitter`.
    let committer: GroupCommitter
    /// What bookings re-read on the writer, kept between them: see `WriterCache`.
    let writerCache = WriterCache()
    /// The file behind the store, or `:memory:`.
    public let path: String
    /// Why the store was opened read-only (nil when it is writable): what an operator reads and what to do.
    public let readOnlyReason: String?
    /// Why the last write was refused for want of space or a failing disk, until a write succeeds again.
    private let refusal = Mutex<String?>(nil)

    /// Wraps an open GRDB writer and migrates it (a read-only one is only checked: it must be up to date).
    ///
    /// - Throws: `unavailable` when the schema cannot be brought up to date.
    public init(
        _ writer: any DatabaseWriter, path: String = ":memory:", clock: any WallClock = SystemWallClock(),
        readOnlyReason: String? = nil, groupCommit: Bool = true
    ) throws {
        self.writer = writer
        self.committer = GroupCommitter(writer: writer, maxWritesPerRound: groupCommit ? .max : 1)
        self.clock = clock
        self.path = path
        self.readOnlyReason =
            writer.configuration.readonly
            ? readOnlyReason
                ?? "\(path) is read-only for the daemon's user: make the file and its folder writable for mediationd, "
                + "then restart it"
            : nil
        do {
            if writer.configuration.readonly {
                guard try writer.read({ db in try Migrations.migrator.hasCompletedMigrations(db) }) else {
                    throw MediationError.unavailable(
                        "the database \(path) is read-only and its schema is older than this mediationd's; "
                            + "make it writable so it can be brought up to date, then start again")
                }
            } else {
                try Migrations.migrator.migrate(writer)
                writer.add(transactionObserver: writerCache, extent: .databaseLifetime)
            }
            // The newest applied migration in the migrator's order (by name, v10 would sort before v9).
            schemaVersionName = try writer.read { db in
                let applied = try Migrations.migrator.appliedIdentifiers(db)
                return Migrations.migrator.migrations.last { applied.contains($0) } ?? "none"
            }
        } catch let error as MediationError {
            throw error
        } catch {
            throw MediationError.unavailable("cannot update the database schema at \(path): \(error)")
        }
    }

    /// True when the store was opened read-only (its file or folder cannot be written, or its disk was full at
    /// start): reads work, changes are refused with a message naming the path.
    public var isReadOnly: Bool { writer.configuration.readonly }

    /// Why changes are refused now, or nil when the store takes them: the read-only reason, else the last write's
    /// refusal for want of space (or a failing disk) until a write succeeds again.
    public var writeRefusal: String? { readOnlyReason ?? refusal.withLock { $0 } }

    /// The name of the newest migration this build knows; a migrated store reports it as its schema version.
    public static var latestSchemaVersion: String { Migrations.migrator.migrations.last ?? "none" }

    /// The newest migration applied, known from the start: migrations only run in `init`.
    let schemaVersionName: String

    static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            // An acknowledged booking must survive a power cut: FULL syncs the WAL on every commit.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Group commit runs each write in a savepoint; the pages a savepoint may have to restore go to a
            // sub-journal, a temporary file once it passes 64 KiB. In memory it never costs a write(2).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        return config
    }

    /// Opens (or creates) the database file in WAL mode, checks it, and migrates it.
    ///
    /// - Parameter groupCommit: false commits every booking alone (one transaction and fsync each), for `make bench`
    ///   to measure what group commit saves (`mediationd --commit-writes-alone`, a flag kept out of the help).
    /// - Throws: `unavailable` with the path and what to do when the file is damaged or unreadable.
    public static func open(
        path: String, clock: any WallClock = SystemWallClock(), groupCommit: Bool = true
    ) throws -> AppDatabase {
        try checkStoreFiles(path)
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // The file holds people's names and phone numbers: no one but the daemon's user and group reads it.
        // Created here with 0640 so SQLite, which gives -wal and -shm the main file's mode, never widens it.
        if !FileManager.default.fileExists(atPath: path) {
            let fd = Glibc.open(path, O_CREAT | O_WRONLY | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
            if fd >= 0 { close(fd) }
        }
        if FileManager.default.fileExists(atPath: path), !writable(path) {
            return try openReadOnly(path: path, clock: clock)
        }
        // On a full disk SQLite cannot make the shared-memory file or recover the log, and would call the store
        // damaged: it is served for reading instead, and every change refused, until space is freed and the daemon
        // restarts. A store whose log cannot be read without writing stops the start, saying so.
        let folder = directory.isEmpty ? "." : directory
        if FileManager.default.fileExists(atPath: path), diskIsFull(folder) {
            let reason = "the disk holding \(folder) is full: free space there, then restart mediationd"
            do { return try openReadOnly(path: path, clock: clock, reason: reason) } catch {
                throw fullAtStart(folder: folder, path: path)
            }
        }
        let pool: DatabasePool
        do {
            // A file left readable by others (an older version, a copy made by hand) is narrowed before use.
            Self.restrictMode(path)
            pool = try DatabasePool(path: path, configuration: configuration())
            // GRDB sets synchronous=NORMAL on the writer after prepareDatabase when it enables WAL;
            // the writer is one long-lived connection, so setting FULL here holds for every commit.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            let result = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            guard result == ["ok"] else {
                throw MediationError.unavailable(damaged(path, result.prefix(3).joined(separator: "; ")))
            }
            for file in [path + "-wal", path + "-shm"] { Self.restrictMode(file) }
        } catch let error as MediationError {
            throw error
        } catch let error as DatabaseError
            where [.SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH].contains(error.resultCode)
        {
            throw MediationError.unavailable(
                "cannot open the database \(path) (\(error.message ?? "\(error.resultCode)")); check that the daemon's "
                    + "user may read and write the file and its folder (store.path in the configuration)")
        } catch {
            if let error = error as? DatabaseError, [.SQLITE_FULL, .SQLITE_IOERR].contains(error.resultCode),
                diskIsFull(folder)
            {
                throw fullAtStart(folder: folder, path: path)
            }
            throw MediationError.unavailable(damaged(path, "\(error)"))
        }
        return try AppDatabase(pool, path: path, clock: clock, groupCommit: groupCommit)
    }

    /// A store that cannot even be read on its full disk (its log needs room to be read): not damaged, and no
    /// backup needed.
    private static func fullAtStart(folder: String, path: String) -> MediationError {
        MediationError.unavailable(
            "the disk holding \(folder) is full: free space there and start again (the store \(path) is not "
                + "damaged; it cannot be opened without room to write)")
    }

    /// Space below which a store's disk counts as full: room for the shared-memory file and a few commits.
    static let fullDiskMargin: Int64 = 1 << 20

    /// True when the disk holding `folder` has less than `fullDiskMargin` free for this process (root may use the
    /// blocks a file system keeps back for it).
    static func diskIsFull(_ folder: String) -> Bool {
        var info = statvfs()
        guard statvfs(folder, &info) == 0 else { return false }
        let blocks = geteuid() == 0 ? info.f_bfree : info.f_bavail
        return Int64(blocks) * Int64(info.f_frsize) < fullDiskMargin
    }

    /// The file and its folder (where the write-ahead log lives) can be written.
    private static func writable(_ path: String) -> Bool {
        let directory = (path as NSString).deletingLastPathComponent
        return access(path, W_OK) == 0 && access(directory.isEmpty ? "." : directory, W_OK) == 0
    }

    /// A store on a read-only disk, or one the daemon's user may not write: served for reading, and every change
    /// refused with the path. `immutable` lets SQLite read a WAL-mode file without creating its -shm beside it,
    /// which a read-only folder forbids.
    private static func openReadOnly(path: String, clock: any WallClock, reason: String? = nil) throws -> AppDatabase {
        var config = configuration()
        config.readonly = true
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let encoded = absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? absolute
        // Changes still in the write-ahead log must be read through it: never open such a file as immutable.
        var wal = stat()
        let pendingLog = stat(path + "-wal", &wal) == 0 && wal.st_size > 0
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(
                path: "file:\(encoded)?" + (pendingLog ? "mode=ro" : "immutable=1"), configuration: config)
            let result = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            guard result == ["ok"] else {
                throw MediationError.unavailable(damaged(path, result.prefix(3).joined(separator: "; ")))
            }
        } catch let error as MediationError {
            throw error
        } catch {
            if access(path, R_OK) != 0 {
                throw MediationError.unavailable(
                    "cannot open the database \(path): the daemon's user (uid \(getuid())) may not read it; check "
                        + "that the daemon's user may read and write the file and its folder "
                        + "(store.path in the configuration)")
            }
            throw MediationError.unavailable(
                "cannot open the read-only database \(path) (\(error)); "
                    + (pendingLog
                        ? "its last changes are still in \(path)-wal: make the folder writable so they can be read, "
                        : "check that the daemon's user may read and write it ")
                    + "(store.path in the configuration)")
        }
        return try AppDatabase(queue, path: path, clock: clock, readOnlyReason: reason)
    }

    /// Takes away every permission of others and the group's write, so the file is at most 0640: only a regular
    /// file of the daemon's own user (one it made, in this run or an earlier one), never through a symbolic link.
    static func restrictMode(_ file: String) {
        let fd = Glibc.open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid() else { return }
        let mode = info.st_mode & 0o777
        if mode & 0o027 != 0 { fchmod(fd, mode & 0o750 & ~0o020) }
    }

    /// The store's path, and its -wal and -shm beside it, must each be a regular file or absent: a directory (such
    /// as /tmp), a symbolic link or a device there is refused before anything is opened or any mode changed.
    ///
    /// - Throws: `invalidInput` naming store.path, what is there, and what to give instead.
    static func checkStoreFiles(_ path: String) throws {
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard lstat(file, &info) == 0 else { continue }
            let kind = info.st_mode & S_IFMT
            guard kind != S_IFREG else { continue }
            let what: String
            switch kind {
            case S_IFDIR: what = "a folder"
            case S_IFLNK:
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: file)).map { " to \($0)" }
                what = "a symbolic link\(target ?? "")"
            case S_IFSOCK: what = "a socket"
            case S_IFIFO: what = "a named pipe"
            default: what = "a device"
            }
            let fix =
                file != path
                ? "move \(file) aside (the daemon makes its own), then start again"
                : kind == S_IFDIR
                    ? "set store.path to a file inside it, for example \(path)/mediation.sqlite"
                    : kind == S_IFLNK
                        ? "set store.path to the database file itself (the daemon follows no links to its store)"
                        : "set store.path to a database file, or to a path where none exists yet"
            let subject = file == path ? "store.path \(path) is" : "store.path \(path): \(file) beside it is"
            throw MediationError.invalidInput(
                "\(subject) \(what), not a database file; nothing was opened or changed", hint: fix)
        }
    }

    private static func damaged(_ path: String, _ why: String) -> String {
        "the database \(path) failed its integrity check (\(why)). Stop here: restore the last backup, "
            + "or move the file aside to start with an empty store."
    }

    /// An empty in-memory store, for tests and tools.
    public static func inMemory(clock: any WallClock = SystemWallClock()) throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration()), clock: clock)
    }

    /// Folds the write-ahead log into the file and closes every connection, so that a clean stop leaves the store
    /// as one file (`-wal` removed). Called once, when the daemon stops; the store is unusable afterwards.
    public func closeConnections() throws {
        if !isReadOnly {
            try writer.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
        // The readers first: SQLite removes the log when the last connection closes, unless that one is read-only,
        // and GRDB's close() closes the writer before the readers.
        (writer as? DatabasePool)?.releaseMemory()
        try writer.close()
    }

    /// The name of the newest applied migration, shown by health.
    public func schemaVersion() async throws -> String { schemaVersionName }

    // MARK: - Running work with errors translated

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await writer.read(body) } catch { throw Self.translate(error, path: path) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            let value = try await writer.write(Self.bindingActor(body))
            return wrote(value)
        } catch { throw refused(error) }
    }

    /// A write that shares its commit with the others in flight (bookings): acknowledged only after the commit.
    func groupWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            let value = try await committer.write(Self.bindingActor(body))
            return wrote(value)
        } catch { throw refused(error) }
    }

    /// A write went through: the disk takes changes again.
    func wrote<T>(_ value: T) -> T {
        refusal.withLock { $0 = nil }
        return value
    }

    /// A write failed: the error in the domain's terms, remembered (for status) when the disk refused it.
    func refused(_ error: any Error) -> any Error {
        let translated = Self.translate(error, path: path, readOnlyReason: readOnlyReason)
        if let db = error as? DatabaseError, [.SQLITE_FULL, .SQLITE_IOERR].contains(db.resultCode),
            let message = (translated as? MediationError)?.message
        {
            refusal.withLock { $0 = message }
        }
        return translated
    }

    /// The body with the caller's audit actor bound again where it runs: GRDB and the group committer run
    /// bodies on their own queues, where the request's task-local values are not visible.
    static func bindingActor<T>(_ body: @escaping @Sendable (Database) throws -> T) -> @Sendable (Database) throws -> T
    {
        guard let actor = AuditActor.current else { return body }
        return { db in try AuditActor.$current.withValue(actor) { try body(db) } }
    }

    /// What group commit has done since the store was opened (for `GET /v1/metrics`).
    public var groupCommitStatistics: GroupCommitStatistics { committer.statistics }

    /// Turns SQLite failures into the domain's error classes so callers never see a 500 for them.
    /// A full disk or a read-only store names the place, so an operator knows where to look; `whatZh` is `what` for
    /// a Chinese reader.
    static func translate(
        _ error: any Error, path: String = ":memory:", writing what: String = "the store", whatZh: String = "数据库",
        readOnlyReason: String? = nil
    ) -> any Error {
        if let unreadable = error as? RowDecodingError {
            // Rows are read through `StoredRow`, which names table, column and row; this catches the few read by
            // position. The row's values and the query's arguments are left out: they may be personal.
            let what = "\(unreadable)".components(separatedBy: ", row:").first ?? "a value"
            return MediationError.unavailable(
                "the store cannot be read: \(what). It was written by another version of mediationd or changed by "
                    + "hand; correct it with sqlite3 while the daemon is stopped, or restore a backup")
        }
        guard let db = error as? DatabaseError else { return error }
        let folder = (path as NSString).deletingLastPathComponent
        switch db.resultCode {
        case .SQLITE_CONSTRAINT:
            return MediationError.said(
                .conflict,
                en: "the change clashes with stored data (\(db.message ?? "constraint")); reload and try again",
                zh: "这项修改与已保存的数据冲突，请刷新后再试")
        case .SQLITE_FULL:
            return MediationError.said(
                .unavailable,
                en: "\(what) cannot be written: disk full at \(folder.isEmpty ? path : folder); free space and retry. "
                    + "Nothing was changed; reads still work",
                zh: "\(whatZh)无法写入：\(folder.isEmpty ? path : folder) 所在的磁盘已满，请腾出空间后重试。"
                    + "这次没有做任何修改，查询仍可使用")
        case .SQLITE_READONLY where readOnlyReason != nil:
            return MediationError.said(
                .unavailable,
                en: "\(what) cannot be written: \(readOnlyReason ?? ""). Nothing was changed; reads still work",
                zh: "\(whatZh)现在只能读取、不能写入（原因见 'mediationctl health'，请管理员处理）。"
                    + "这次没有做任何修改，查询仍可使用")
        case .SQLITE_READONLY:
            return MediationError.said(
                .unavailable,
                en:
                    "\(what) cannot be written: \(path) is read-only (\(db.message ?? "read-only")); make the file and its "
                    + "folder writable for mediationd, then restart it. Nothing was changed; reads still work",
                zh: "\(whatZh)无法写入：\(path) 是只读的；请让 mediationd 可以写这个文件及其所在目录，然后重启它。"
                    + "这次没有做任何修改，查询仍可使用")
        case .SQLITE_IOERR:
            return MediationError.said(
                .unavailable,
                en: "\(what) cannot be written: the disk at \(folder.isEmpty ? path : folder) failed "
                    + "(\(db.message ?? "I/O error")); check that it is mounted, writable and not full, then retry. "
                    + "Nothing was changed",
                zh: "\(whatZh)无法写入：\(folder.isEmpty ? path : folder) 所在的磁盘出错；请检查它已挂载、可写且未满，"
                    + "然后重试。这次没有做任何修改")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return MediationError.said(
                .unavailable, en: "the database is busy; try again in a moment", zh: "数据库正忙，请稍后再试")
        default:
            return MediationError.unavailable("the database failed: \(db.message ?? "\(db.resultCode)")")
        }
    }
}
