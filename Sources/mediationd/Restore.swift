import ArgumentParser
import Foundation
import Glibc
import MediationCore
import MediationStore

/// `mediationd restore FILE`: puts a backup back in place of the store, with the daemon stopped.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the store with a backup made by 'mediationctl backup' (stop the daemon first).",
        discussion: """
            Checks FILE (an SQLite database that passes PRAGMA integrity_check and is a Mediation Coordinator
            store no newer than this mediationd), copies it beside the store, and swaps it in with one rename,
            so the store is always either the old one or the whole backup. The old store is kept as
            STORE.before-restore-TIMESTAMP. The store path comes from the same --config and MEDIATIOND_*
            variables the daemon reads; a daemon still serving on the socket, or any process holding the
            store open, stops the restore.
            Example: systemctl stop mediationd && mediationd restore --config /etc/mediationd/mediationd.yaml \\
            /srv/backups/mediation-2026-12-01.sqlite && systemctl start mediationd
            """)

    @Option(name: .long, help: "The YAML configuration file naming store.path and socket.path.")
    var config: String?

    @Argument(help: "The backup file to restore.")
    var file: String

    func run() async throws {
        do {
            let settings = try await DaemonConfiguration.load(file: config)
            let kept = try StoreRestore(store: settings.storePath, socket: settings.socketPath).restore(from: file)
            print("restored \(file) into \(settings.storePath)")
            if let kept { print("the previous store is kept as \(kept)") }
        } catch let error as MediationError {
            FileHandle.standardError.write(Data("mediationd restore: \(error.message)\n".utf8))
            throw ExitCode(error.kind == .invalidInput ? 2 : 1)
        }
    }
}

/// The steps of a restore, each leaving the store whole if the next fails.
struct StoreRestore {
    let store: String
    let socket: String

    /// - Returns: where the old store was kept, when there was one.
    func restore(from file: String) throws -> String? {
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw MediationError.invalidInput(
                "\(file) does not exist (\(String(cString: strerror(errno))))", hint: "give the path of a backup file")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw MediationError.invalidInput(
                "\(file) is not a file", hint: "give a backup file made by 'mediationctl backup --to FILE'")
        }
        guard StoreFiles.hasSQLiteHeader(file) else {
            throw MediationError.invalidInput(
                "\(file) is not an SQLite database (it lacks the 'SQLite format 3' header)",
                hint: "give a backup file made by 'mediationctl backup --to FILE'")
        }
        if SocketGuard.probe(socket) == 0 {
            throw MediationError.conflict(
                "mediationd is running (it answers at \(socket)); stop it first (systemctl stop mediationd), "
                    + "then restore")
        }
        let folder = (store as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var old = stat()
        let hasOld = stat(store, &old) == 0

        let scratch = store + ".restore-\(getpid()).tmp"
        unlink(scratch)
        defer {
            unlink(scratch)
            unlink(scratch + "-journal")
        }
        // The old store's mode and owner, so the daemon's user can open the restored one.
        try copy(file, to: scratch, mode: hasOld ? old.st_mode & 0o777 : 0o640)
        if hasOld { _ = chown(scratch, old.st_uid, old.st_gid) }
        _ = try StoreFiles.verifyCandidate(scratch, named: file)
        try sync(scratch)
        // Fold the old store's log into it: this fails when any process still has it open. A damaged old store
        // (often the reason for a restore) cannot be settled: its log is kept beside it as it is.
        var oldIsWhole = true
        if hasOld {
            do { try StoreFiles.settle(store) } catch let error as MediationError where error.kind == .conflict {
                throw error
            } catch {
                oldIsWhole = false
            }
        }

        var kept: String?
        if hasOld {
            // A second restore within the same second gets its own name.
            var name = store + ".before-restore-" + Self.stamp(Date())
            var suffix = 1
            while FileManager.default.fileExists(atPath: name) {
                suffix += 1
                name = store + ".before-restore-" + Self.stamp(Date()) + "-\(suffix)"
            }
            guard link(store, name) == 0 else {
                throw MediationError.unavailable(
                    "cannot keep the old store as \(name): \(String(cString: strerror(errno))); nothing was changed")
            }
            kept = name
            if !oldIsWhole {
                for suffix in ["-wal", "-shm"] { _ = rename(store + suffix, name + suffix) }
            }
        }
        guard rename(scratch, store) == 0 else {
            let why = String(cString: strerror(errno))
            if let kept { unlink(kept) }
            throw MediationError.unavailable("cannot put the backup in place of \(store): \(why); nothing was changed")
        }
        unlink(store + "-wal")
        unlink(store + "-shm")
        try sync(folder.isEmpty ? "." : folder)
        return kept
    }

    /// 20261201T083000Z
    static func stamp(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    private func copy(_ source: String, to target: String, mode: mode_t) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            throw MediationError.invalidInput("cannot read \(source): \(String(cString: strerror(errno)))")
        }
        defer { close(input) }
        let output = open(target, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode)
        guard output >= 0 else {
            throw MediationError.unavailable(
                "cannot create \(target) beside the store: \(String(cString: strerror(errno))); nothing was changed")
        }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count == 0 { break }
            guard count > 0 else {
                throw MediationError.invalidInput("cannot read \(source): \(String(cString: strerror(errno)))")
            }
            var done = 0
            while done < count {
                let wrote = buffer.withUnsafeBytes { raw in
                    write(output, raw.baseAddress.map { $0 + done }, count - done)
                }
                guard wrote > 0 else {
                    throw MediationError.unavailable(
                        "cannot write the copy beside the store (\(String(cString: strerror(errno))) in "
                            + "\((target as NSString).deletingLastPathComponent)); free space and retry; nothing was changed"
                    )
                }
                done += wrote
            }
        }
        _ = fchmod(output, mode)
    }

    private func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw MediationError.unavailable("cannot flush \(path) to disk: \(String(cString: strerror(errno)))")
        }
    }
}
