import Foundation
import GRDB
import Synchronization
import Testing

@testable import MediationStore

/// Group commit: writes in flight share a transaction, each in its own savepoint.
struct GroupCommitTests {
    private func pool() throws -> (DatabasePool, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("group-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let pool = try DatabasePool(path: dir.appendingPathComponent("g.sqlite").path)
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            try db.execute(
                sql: """
                    CREATE TABLE child (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE,
                    parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)
                    """)
        }
        return (pool, dir)
    }

    /// Starts a write that holds its round open until `release` is signalled, and returns once it runs.
    private func holdRound(_ committer: GroupCommitter, until release: DispatchSemaphore) async throws -> Task<
        Void, any Error
    > {
        let running = Mutex(false)
        let holding = Task.detached {
            try await committer.write { _ in
                running.withLock { $0 = true }
                release.wait()
            }
        }
        while !running.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        return holding
    }

    /// Waits until `count` writes are queued behind the held round.
    private func waitForQueue(_ committer: GroupCommitter, _ count: Int) async throws {
        while committer.waiting < count { try await Task.sleep(for: .milliseconds(5)) }
    }

    @Test func concurrentWritesAllLandAndAFailingOneRollsBackAlone() async throws {
        let (pool, dir) = try pool()
        defer { try? FileManager.default.removeItem(at: dir) }
        let committer = GroupCommitter(writer: pool)
        // 200 writers at once; every tenth inserts two rows and then fails, so only its own rows must vanish.
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<200 {
                group.addTask {
                    do {
                        try await committer.write { db in
                            try db.execute(sql: "INSERT INTO child (v) VALUES (?)", arguments: [i])
                            if i % 10 == 0 {
                                try db.execute(sql: "INSERT INTO child (v) VALUES (?)", arguments: [10_000 + i])
                                try db.execute(sql: "INSERT INTO child (v) VALUES (?)", arguments: [i])  // duplicate
                            }
                        }
                        return (i, true)
                    } catch {
                        return (i, false)
                    }
                }
            }
            var all: [(Int, Bool)] = []
            for await r in group { all.append(r) }
            return all
        }
        let succeeded = Set(results.filter(\.1).map(\.0))
        #expect(succeeded == Set((0..<200).filter { $0 % 10 != 0 }))
        let stored = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT v FROM child ORDER BY v") }
        #expect(stored == (0..<200).filter { $0 % 10 != 0 })
        // Every write is counted, the failing ones too (their rounds committed); the writes shared rounds.
        let statistics = committer.statistics
        #expect(statistics.writes == 200)
        #expect(statistics.failedRounds == 0)
        #expect((1..<200).contains(statistics.rounds), "\(statistics)")
        #expect(statistics.runNanoseconds > 0 && statistics.commitNanoseconds > 0, "\(statistics)")
    }

    @Test func aWriteSeesTheWritesBeforeItInTheSameRound() async throws {
        let (pool, dir) = try pool()
        defer { try? FileManager.default.removeItem(at: dir) }
        let committer = GroupCommitter(writer: pool)
        // Each writer claims value 1 only if no one has: exactly one may win, however the rounds fall.
        let wins = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    (try? await committer.write { db -> Bool in
                        if try Int.fetchOne(db, sql: "SELECT count(*) FROM child WHERE v = 1") ?? 0 > 0 { return false }
                        try db.execute(sql: "INSERT INTO child (v) VALUES (1)")
                        return true
                    }) ?? false
                }
            }
            var n = 0
            for await won in group where won { n += 1 }
            return n
        }
        #expect(wins == 1)
    }

    @Test func writesQueuedTogetherShareARoundUnlessEachMustCommitAlone() async throws {
        for alone in [false, true] {
            let (pool, dir) = try pool()
            defer { try? FileManager.default.removeItem(at: dir) }
            let committer = GroupCommitter(writer: pool, maxWritesPerRound: alone ? 1 : .max)
            // A first write holds its round open while three more queue up behind it.
            let release = DispatchSemaphore(value: 0)
            let holding = try await holdRound(committer, until: release)
            async let a: Void = committer.write { db in try db.execute(sql: "INSERT INTO child (v) VALUES (1)") }
            async let b: Void = committer.write { db in try db.execute(sql: "INSERT INTO child (v) VALUES (2)") }
            async let c: Void = committer.write { db in try db.execute(sql: "INSERT INTO child (v) VALUES (3)") }
            try await waitForQueue(committer, 3)
            release.signal()
            try await holding.value
            _ = try await (a, b, c)
            let stored = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT v FROM child ORDER BY v") }
            #expect(stored == [1, 2, 3])
            // Grouped: the held round, then one round for the three; alone: a round (and a commit) each.
            #expect(committer.statistics.writes == 4)
            #expect(committer.statistics.rounds == (alone ? 4 : 2), "alone: \(alone), \(committer.statistics)")
        }
    }

    @Test func aFailedCommitFailsEveryWriteOfItsRoundAndStoresNothing() async throws {
        let (pool, dir) = try pool()
        defer { try? FileManager.default.removeItem(at: dir) }
        let committer = GroupCommitter(writer: pool)
        // A deferred foreign key is only checked at COMMIT: the round's commit fails, after every savepoint
        // was released. A first write holds its round open, so that the three others queue up for the next one.
        let release = DispatchSemaphore(value: 0)
        let holding = try await holdRound(committer, until: release)
        async let a: Void = committer.write { db in try db.execute(sql: "INSERT INTO child (v) VALUES (1)") }
        async let b: Void = committer.write { db in
            try db.execute(sql: "INSERT INTO child (v, parent_id) VALUES (2, 99)")
        }
        async let c: Void = committer.write { db in try db.execute(sql: "INSERT INTO child (v) VALUES (3)") }
        try await waitForQueue(committer, 3)
        release.signal()
        try await holding.value
        var failures = 0
        do { try await a } catch { failures += 1 }
        do { try await b } catch {
            failures += 1
            #expect((error as? DatabaseError)?.resultCode == .SQLITE_CONSTRAINT)
        }
        do { try await c } catch { failures += 1 }
        #expect(failures == 3)
        // The holding write's round, then the three's, whose commit failed.
        #expect(committer.statistics.rounds == 2)
        #expect(committer.statistics.writes == 4)
        #expect(committer.statistics.failedRounds == 1)
        let count = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM child") }
        #expect(count == 0)
    }

    @Test func whenSQLiteRollsTheRoundBackTheWritesAfterDoNotRunOnTheirOwn() async throws {
        let (pool, dir) = try pool()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await pool.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER no_negative BEFORE INSERT ON child WHEN NEW.v < 0
                    BEGIN SELECT RAISE(ROLLBACK, 'negative values roll the transaction back'); END
                    """)
        }
        let committer = GroupCommitter(writer: pool)
        // One round: a write, one that makes SQLite roll the whole transaction back, and one after it. Outside a
        // transaction the last would commit alone, yet hear that the round failed.
        let release = DispatchSemaphore(value: 0)
        let holding = try await holdRound(committer, until: release)
        var writes: [Task<Void, any Error>] = []
        for (n, v) in [1, -1, 3].enumerated() {
            writes.append(
                Task.detached {
                    try await committer.write { db in
                        try db.execute(sql: "INSERT INTO child (v) VALUES (?)", arguments: [v])
                    }
                })
            // Queued in this order.
            try await waitForQueue(committer, n + 1)
        }
        release.signal()
        try await holding.value
        var failed = 0
        for write in writes {
            do { try await write.value } catch { failed += 1 }
        }
        #expect(failed == 3)
        let count = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM child") }
        #expect(count == 0)
        // The committer goes on: the next round commits.
        try await committer.write { db in try db.execute(sql: "INSERT INTO child (v) VALUES (4)") }
        #expect(try await pool.read { db in try Int.fetchAll(db, sql: "SELECT v FROM child") } == [4])
    }
}
