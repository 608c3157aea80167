import Foundation
import Glibc
import MediationAPI
import MediationCore
import MediationStore
import OpenAPIRuntime
import Synchronization

extension APIHandler {
    // MARK: Status

    func getStatus(_ input: Operations.GetStatus.Input) async throws -> Operations.GetStatus.Output {
        let summary = try await db.operationsSummary()
        let now = info.clock.now()
        let counts = summary.outbox
        let status = Components.Schemas.Status(
            version: ProductVersion.current, pid: Int64(getpid()), startedAt: shown(info.startedAt),
            uptimeSeconds: now.timeIntervalSince(info.startedAt), schemaVersion: try await db.schemaVersion(),
            store: .init(
                path: db.path, bytes: db.storeBytes(), writable: db.writeRefusal == nil, problem: db.writeRefusal),
            outbox: .init(
                pending: counts[.pending] ?? 0, sent: counts[.sent] ?? 0, failed: counts[.failed] ?? 0,
                dead: counts[.dead] ?? 0, skipped: counts[.skipped] ?? 0,
                oldestDueSeconds: summary.oldestDue.map { max(0, now.timeIntervalSince($0)) }),
            lastDeliveryError: summary.lastDeliveryProblem.map {
                .init(
                    at: shown($0.at), channel: $0.channel, message: $0.message,
                    detail: Words.deliveryNote($0.detail, ReplyLanguage.current))
            },
            lastBackup: summary.lastBackup.map {
                .init(
                    at: shown($0.at), bytes: $0.bytes, uid: Int64($0.uid), user: $0.user, destination: $0.destination)
            },
            warnings: summary.warnings,
            unreached: try await db.unreachedUpcoming(available: info.notices.personalChannels).map { u in
                .init(
                    session: u.sessionId, dispute: u.disputeNumber, start: u.zone.format(u.start),
                    people: Self.wire(u.people))
            },
            smsQuota: try await db.smsQuotaAlert().map {
                .init(since: Zone.shanghai.format($0.since), detail: $0.detail)
            })
        return .ok(.init(body: .json(status)))
    }

    // MARK: Metrics

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        OperationsMetrics.recordOutbox(try await db.outboxCounts())
        return .ok(
            .init(body: .plainText(HTTPBody(OperationsMetrics.exposition(groupCommit: db.groupCommitStatistics)))))
    }

    // MARK: Backup

    func createBackup(_ input: Operations.CreateBackup.Input) async throws -> Operations.CreateBackup.Output {
        // Admins only (OperationRoles): a backup holds every party's name, mobile and ID number.
        guard let caller = Caller.current else {
            throw MediationError.forbidden("the caller's credentials could not be read; connect over the Unix socket")
        }
        let destination = input.query.destination.flatMap { Text.nonEmpty($0) }
        let (file, bytes) = try await Backups.snapshot(db)
        // A backup carries every party's details out of the daemon: who took one is part of the trail. On a full
        // disk or a read-only store the row cannot be written, and the backup (the way to rescue the data) still goes.
        try? await db.recordAudit(
            action: "store.backup", target: "store",
            summary: "\(bytes) bytes" + (destination.map { " for \($0)" } ?? ""))
        let db = self.db
        let clock = info.clock
        let body = HTTPBody(
            FileChunks(file: file) {
                // The whole copy left the daemon: remember it for status.
                try? await db.recordBackup(
                    BackupRecord(
                        at: clock.now(), bytes: bytes, uid: caller.credentials.uid, user: caller.user,
                        destination: destination))
            }, length: .known(bytes), iterationBehavior: .single)
        return .ok(.init(headers: .init(contentLength: bytes), body: .binary(body)))
    }

    /// Status times belong to no office: China Standard Time, as audit rows, with the offset and the seconds.
    private func shown(_ date: Date) -> String {
        Zone.shanghai.formatToTheSecond(date)
    }
}

/// Snapshots of the store for `POST /v1/backup`.
enum Backups {
    /// Copies the store into a new private file beside it (else in the temporary folder, when the store's folder
    /// cannot take it), opens it and unlinks it, so the copy vanishes when the answer has been sent or dropped.
    ///
    /// - Returns: the open copy and its size.
    /// - Throws: `unavailable` saying why no copy could be made (a full disk names the folder).
    static func snapshot(_ db: AppDatabase) async throws -> (OpenFile, Int64) {
        var folders = [NSTemporaryDirectory()]
        if db.path != ":memory:" { folders.insert((db.path as NSString).deletingLastPathComponent, at: 0) }
        var firstError: (any Error)?
        for folder in folders {
            let name = (folder.isEmpty ? "." : folder) + "/.mediation-backup-\(getpid())-\(UUID().uuidString).sqlite"
            // 0600: the copy holds the same personal data as the store.
            let created = Glibc.open(name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
            guard created >= 0 else {
                let why = String(cString: strerror(errno))
                firstError =
                    firstError
                    ?? MediationError.said(
                        .unavailable, en: "cannot create a backup copy in \(folder): \(why)",
                        zh: "无法在 \(folder) 中创建备份副本：\(why)")
                continue
            }
            close(created)
            do {
                let bytes = try await db.snapshot(to: name)
                let fd = Glibc.open(name, O_RDONLY | O_CLOEXEC)
                unlink(name)
                guard fd >= 0 else {
                    let why = String(cString: strerror(errno))
                    throw MediationError.said(
                        .unavailable, en: "cannot read the backup copy back: \(why)", zh: "无法读回备份副本：\(why)")
                }
                return (OpenFile(fd), bytes)
            } catch {
                unlink(name)
                unlink(name + "-journal")
                firstError = firstError ?? error
            }
        }
        throw firstError
            ?? MediationError.said(
                .unavailable, en: "no folder could take the backup copy", zh: "没有哪个文件夹能存放备份副本")
    }
}

/// A file descriptor closed exactly once, when its last user lets go.
final class OpenFile: Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}

/// The bytes of an open file in 64 KiB chunks; `atEnd` runs once after the last one was handed on.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let file: OpenFile
    let atEnd: @Sendable () async -> Void

    init(file: OpenFile, atEnd: @escaping @Sendable () async -> Void) {
        self.file = file
        self.atEnd = atEnd
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let file: OpenFile
        let atEnd: @Sendable () async -> Void
        var finished = false

        mutating func next() async throws -> ArraySlice<UInt8>? {
            guard !finished else { return nil }
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            let count = buffer.withUnsafeMutableBytes { read(file.fd, $0.baseAddress, $0.count) }
            if count < 0 {
                throw MediationError.unavailable("reading the backup copy failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                finished = true
                await atEnd()
                return nil
            }
            return buffer[0..<count]
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(file: file, atEnd: atEnd) }
}
