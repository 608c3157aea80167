import Foundation
import GRDB
import Synchronization

/// Group commit: many writes, one transaction, one fsync.
///
/// A booking's cost is dominated by the commit's fsync (synchronous=FULL). Writes that arrive while a commit is
/// in flight wait in a queue; the next round runs all of them in one transaction, each inside its own savepoint,
/// so one that fails rolls back alone and hears its own error, while the others commit together. No caller hears
/// success before the commit that holds its change has returned, so an acknowledged change is as durable as with
/// one transaction per change. The writes in a round run one after another on the single writer, so each sees the
/// changes of those before it: a booking's re-check inside its savepoint still sees every earlier booking.
///
/// For example:
/// ```swift
/// let session = try await committer.write { db in try book(db) }
/// ```
final class GroupCommitter: Sendable {
    private struct State {
        var queue: [any QueuedWrite] = []
        var draining = false
        var statistics = GroupCommitStatistics()
    }

    private let writer: any DatabaseWriter
    /// Most writes in one round: unlimited in the daemon; 1 commits every write alone, as without group commit
    /// (`mediationd --commit-writes-alone`, for `make bench` to show what group commit saves).
    private let maxWritesPerRound: Int
    private let state = Mutex(State())
    private let rounds = DispatchQueue(label: "mediation.group-commit")

    init(writer: any DatabaseWriter, maxWritesPerRound: Int = .max) {
        self.writer = writer
        self.maxWritesPerRound = max(1, maxWritesPerRound)
    }

    /// What the rounds so far have done and how long they took.
    var statistics: GroupCommitStatistics { state.withLock { $0.statistics } }

    /// Writes waiting for the next round (tests wait on it to know a round will gather them).
    var waiting: Int { state.withLock { $0.queue.count } }

    /// Runs `body` in the next round's transaction, inside a savepoint, and returns once that round has committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = PendingWrite(body: body, continuation: continuation)
            let start = state.withLock { s in
                s.queue.append(job)
                if s.draining { return false }
                s.draining = true
                return true
            }
            if start { rounds.async { self.drain() } }
        }
    }

    /// Commits rounds until the queue is empty; the writes that arrive during a round make up the next one.
    private func drain() {
        while true {
            let batch = state.withLock { s -> [any QueuedWrite] in
                let batch = Array(s.queue.prefix(maxWritesPerRound))
                s.queue.removeFirst(batch.count)
                if batch.isEmpty { s.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            let began = DispatchTime.now().uptimeNanoseconds
            var ran = began
            var failure: (any Error)?
            do {
                try writer.writeWithoutTransaction { db in
                    try db.inTransaction {
                        for job in batch { job.run(db) }
                        ran = DispatchTime.now().uptimeNanoseconds
                        return .commit
                    }
                }
            } catch {
                // The transaction itself failed (could not begin or commit): nothing of the round is stored.
                failure = error
            }
            let ended = DispatchTime.now().uptimeNanoseconds
            state.withLock { s in
                s.statistics.rounds += 1
                s.statistics.writes += batch.count
                if failure != nil { s.statistics.failedRounds += 1 }
                s.statistics.runNanoseconds += ran - began
                s.statistics.commitNanoseconds += ended - ran
            }
            for job in batch { job.finish(committed: failure) }
        }
    }
}

/// Totals since the store was opened: how many rounds and writes, and where the single writer's time went.
///
/// A round's time is its writes, one after another, then its commit (the write-ahead log's frames and their
/// fsync). With `k` writes per round, the writer commits at most `k / (k · run + commit)` writes a second.
public struct GroupCommitStatistics: Sendable, Equatable {
    /// Transactions committed (or failed) by the group committer.
    public var rounds = 0
    /// Writes they carried, each in its own savepoint.
    public var writes = 0
    /// Rounds whose transaction could not begin or commit: none of their writes was stored.
    public var failedRounds = 0
    /// Time spent running the writes, from the round's start to its COMMIT.
    public var runNanoseconds: UInt64 = 0
    /// Time spent in COMMIT: writing the log's frames and syncing them.
    public var commitNanoseconds: UInt64 = 0

    public init() {}
}

/// A write waiting for its round.
private protocol QueuedWrite: Sendable {
    /// Runs the write inside a savepoint of the round's transaction and keeps its result.
    func run(_ db: Database)
    /// Answers the caller: the kept result when the round committed, else the commit's error.
    func finish(committed error: (any Error)?)
}

private final class PendingWrite<T: Sendable>: QueuedWrite {
    let body: @Sendable (Database) throws -> T
    let continuation: CheckedContinuation<T, any Error>
    let result = Mutex<Result<T, any Error>?>(nil)

    init(body: @escaping @Sendable (Database) throws -> T, continuation: CheckedContinuation<T, any Error>) {
        self.body = body
        self.continuation = continuation
    }

    func run(_ db: Database) {
        let outcome = Result<T, any Error> {
            // The savepoint's statements are compiled once (GRDB's inSavepoint compiles them for every write);
            // GRDB still sees them, so its observers hold a savepoint's changes until it is released. When SQLite
            // has rolled the round's transaction back by itself (a full disk, a trigger's RAISE(ROLLBACK)), GRDB
            // refuses every later statement of the round, so no write after it commits on its own.
            try db.cachedExecute("SAVEPOINT write")
            do {
                let value = try body(db)
                try db.cachedExecute("RELEASE SAVEPOINT write")
                return value
            } catch {
                if db.isInsideTransaction {
                    try db.cachedExecute("ROLLBACK TO SAVEPOINT write")
                    try db.cachedExecute("RELEASE SAVEPOINT write")
                }
                throw error
            }
        }
        result.withLock { $0 = outcome }
    }

    func finish(committed error: (any Error)?) {
        if let error {
            continuation.resume(throwing: error)
        } else {
            continuation.resume(
                with: result.withLock { $0 }
                    ?? .failure(DatabaseError(resultCode: .SQLITE_ERROR, message: "the write did not run")))
        }
    }
}
