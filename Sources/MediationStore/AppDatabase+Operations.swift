import Foundation
import GRDB
import MediationCore

#if canImport(Glibc)
    import Glibc
#endif

/// The last failed delivery attempt, for status.
public struct DeliveryProblem: Sendable, Equatable {
    public var at: Date
    public var channel: String
    public var message: Int64
    public var detail: String
}

/// A backup handed to mediationctl.
public struct BackupRecord: Sendable, Equatable {
    public var at: Date
    public var bytes: Int64
    public var uid: UInt32
    public var user: String?
    /// Where mediationctl said it would write the copy.
    public var destination: String?

    public init(at: Date, bytes: Int64, uid: UInt32, user: String?, destination: String?) {
        self.at = at
        self.bytes = bytes
        self.uid = uid
        self.user = user
        self.destination = destination
    }
}

/// What `status` shows about the store and its queues.
public struct OperationsSummary: Sendable {
    public var outbox: [OutboxStatus: Int]
    /// When the longest-waiting message that is due (pending or failed) fell due.
    public var oldestDue: Date?
    public var lastDeliveryProblem: DeliveryProblem?
    public var lastBackup: BackupRecord?
    /// Early warnings raised so far.
    public var warnings: Int
}

extension AppDatabase {
    /// Queue depths, the oldest due message, the last delivery problem, the last backup and the warnings count.
    ///
    /// For example:
    /// ```swift
    /// let summary = try await db.operationsSummary()
    /// print(summary.outbox[.pending] ?? 0)
    /// ```
    public func operationsSummary() async throws -> OperationsSummary {
        let now = clock.now()
        let counts = try await outboxCounts()
        return try await read { db in
            let oldest = try Double.fetchOne(
                db,
                sql: "SELECT min(due_at) FROM outbox_message WHERE status IN ('pending', 'failed') AND due_at <= ?",
                arguments: [now.epoch])
            let problem = try Row.fetchOne(
                db,
                sql: """
                    SELECT id, at, channel, message_id, detail FROM outbox_attempt
                    WHERE result NOT IN ('sent', 'skipped') ORDER BY id DESC LIMIT 1
                    """
            ).map { row in
                let r = StoredRow(row, table: "outbox_attempt")
                return DeliveryProblem(
                    at: try r.date(Column("at")), channel: try r.value(Column("channel")),
                    message: try r.value(Column("message_id")), detail: try r.value(Column("detail")))
            }
            let backup = try Row.fetchOne(
                db, sql: "SELECT id, taken_at, bytes, uid, user, destination FROM backup_log ORDER BY id DESC LIMIT 1"
            ).map { row in
                let r = StoredRow(row, table: "backup_log")
                return BackupRecord(
                    at: try r.date(Column("taken_at")), bytes: try r.value(Column("bytes")),
                    uid: try r.value(Column("uid")), user: try r.optional(Column("user")),
                    destination: try r.optional(Column("destination")))
            }
            let warnings = try Int.fetchOne(db, sql: "SELECT count(*) FROM warning") ?? 0
            return OperationsSummary(
                outbox: counts, oldestDue: oldest.map { Date(epoch: $0) }, lastDeliveryProblem: problem,
                lastBackup: backup, warnings: warnings)
        }
    }

    /// Bytes the store takes on disk: the file and its write-ahead log.
    public func storeBytes() -> Int64 {
        guard path != ":memory:" else { return 0 }
        return [path, path + "-wal"].reduce(Int64(0)) { sum, file in
            var info = stat()
            return sum + (stat(file, &info) == 0 ? Int64(info.st_size) : 0)
        }
    }

    /// Remembers a backup for status.
    public func recordBackup(_ backup: BackupRecord) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO backup_log (taken_at, bytes, uid, user, destination) VALUES (?, ?, ?, ?, ?)",
                arguments: [backup.at.epoch, backup.bytes, Int64(backup.uid), backup.user, backup.destination])
        }
    }

    /// Writes a consistent copy of the store to `destination` (a new file) with SQLite's online backup while
    /// others keep reading and writing, then checks the copy with `PRAGMA integrity_check`.
    ///
    /// For example:
    /// ```swift
    /// let bytes = try await db.snapshot(to: "/var/lib/mediationd/mediation.sqlite.backup-1.tmp")
    /// ```
    /// - Returns: the copy's size in bytes.
    /// - Throws: `unavailable` when the copy cannot be written (a full disk names the folder) or fails its check.
    public func snapshot(to destination: String) async throws -> Int64 {
        let source = writer
        let folder = (destination as NSString).deletingLastPathComponent
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(
                    with: Result {
                        do {
                            var config = Configuration()
                            config.prepareDatabase { db in
                                // A scratch copy: no journal of its own; integrity_check below vouches for it.
                                try db.execute(sql: "PRAGMA journal_mode = OFF")
                            }
                            let copy = try DatabaseQueue(path: destination, configuration: config)
                            try source.backup(to: copy)
                            let check = try copy.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
                            try copy.close()
                            guard check == ["ok"] else {
                                throw MediationError.said(
                                    .unavailable,
                                    en:
                                        "the backup copy failed its integrity check (\(check.prefix(3).joined(separator: "; "))); "
                                        + "check the disk holding \(folder) and try again",
                                    zh: "备份副本没有通过完整性检查；请检查 \(folder) 所在的磁盘，然后重试")
                            }
                            var info = stat()
                            guard stat(destination, &info) == 0 else {
                                throw MediationError.said(
                                    .unavailable, en: "the backup copy \(destination) vanished while it was made",
                                    zh: "备份副本 \(destination) 在制作过程中不见了，请重试")
                            }
                            return Int64(info.st_size)
                        } catch let error as DatabaseError {
                            throw Self.translate(error, path: destination, writing: "the backup copy", whatZh: "备份副本")
                        }
                    })
            }
        }
    }
}

/// Checks and swaps store files while no daemon has them open (`mediationd restore`).
public enum StoreFiles {
    /// The first 16 bytes of every SQLite 3 database.
    static let header = Array("SQLite format 3\u{0}".utf8)

    /// True when the file at `path` starts with SQLite's header.
    public static func hasSQLiteHeader(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let bytes = (try? handle.read(upToCount: header.count)) ?? Data()
        return Array(bytes) == header
    }

    /// Checks that the database at `path` is whole and is a store this build can open, and leaves it as one file
    /// (no write-ahead log). The file must be a private copy: this writes to it.
    ///
    /// For example:
    /// ```swift
    /// let migrations = try StoreFiles.verifyCandidate("/var/lib/mediationd/mediation.sqlite.restore.tmp", named: "backup.sqlite")
    /// ```
    /// - Returns: the migrations the file has applied.
    /// - Throws: `invalidInput` naming what is wrong: damaged, not a store, from a newer mediationd.
    public static func verifyCandidate(_ path: String, named name: String) throws -> [String] {
        do {
            var config = Configuration()
            config.busyMode = .immediateError
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            let check = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
            guard check == ["ok"] else {
                throw MediationError.invalidInput(
                    "\(name) is damaged: PRAGMA integrity_check says \(check.prefix(3).joined(separator: "; "))",
                    hint: "restore an older backup")
            }
            let migrator = Migrations.migrator
            let applied = try queue.read { db in try migrator.appliedIdentifiers(db) }
            guard applied.contains(migrator.migrations.first ?? "") else {
                throw MediationError.invalidInput(
                    "\(name) is an SQLite database but not a Mediation Coordinator store (it has no "
                        + "\(migrator.migrations.first ?? "") schema)",
                    hint: "give a file made by 'mediationctl backup'")
            }
            let unknown = applied.subtracting(migrator.migrations).sorted()
            guard unknown.isEmpty else {
                throw MediationError.invalidInput(
                    "\(name) comes from a newer mediationd (schema \(unknown.joined(separator: ", ")) is unknown to "
                        + "version \(ProductVersion.current))",
                    hint: "install that newer mediationd first, then restore")
            }
            try queue.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
            }
            return migrator.migrations.filter(applied.contains)
        } catch let error as MediationError {
            throw error
        } catch let error as DatabaseError {
            if [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
                throw MediationError.invalidInput(
                    "\(name) is damaged: \(error.message ?? "\(error.resultCode)")", hint: "restore an older backup")
            }
            throw translate(error, path: path, writing: "the restored copy")
        }
    }

    /// Folds the store's write-ahead log into the file and removes it, so the file alone holds every change.
    ///
    /// - Throws: `conflict` when another process (a running mediationd) has the store open.
    public static func settle(_ path: String) throws {
        do {
            var config = Configuration()
            config.busyMode = .immediateError
            let queue = try DatabaseQueue(path: path, configuration: config)
            defer { try? queue.close() }
            let mode = try queue.writeWithoutTransaction { db -> String? in
                _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                return try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
            }
            guard mode?.lowercased() == "delete" else {
                throw MediationError.conflict(
                    "the store \(path) is still in use by another process (a running mediationd?); "
                        + "stop it (systemctl stop mediationd) and restore again")
            }
        } catch let error as DatabaseError where [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode) {
            throw MediationError.conflict(
                "the store \(path) is in use by another process (a running mediationd?); "
                    + "stop it (systemctl stop mediationd) and restore again")
        } catch let error as DatabaseError {
            throw AppDatabase.translate(error, path: path, writing: "the store")
        }
    }

    static func translate(_ error: DatabaseError, path: String, writing what: String) -> any Error {
        AppDatabase.translate(error, path: path, writing: what)
    }
}
