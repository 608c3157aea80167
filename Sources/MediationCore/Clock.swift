import Foundation

/// The source of "now" for everything that depends on time, and the one way timers wait, so tests move time
/// instead of waiting for it.
///
/// For example:
/// ```swift
/// let clock: any WallClock = SystemWallClock()
/// try await clock.sleep(for: .seconds(60))   // a timer's wait; a test's FixedWallClock ends it with advance(by: 60)
/// ```
public protocol WallClock: Sendable {
    func now() -> Date

    /// Suspends until `deadline` by this clock.
    ///
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Date) async throws
}

extension WallClock {
    /// Suspends for `duration` by this clock.
    ///
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now().addingTimeInterval(duration.timeInterval))
    }
}

extension Duration {
    /// The duration in seconds, with its fraction.
    public var timeInterval: TimeInterval {
        TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}

/// The real clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else { return try Task.checkCancellation() }
        try await Task.sleep(for: .nanoseconds(Int64(min(seconds, 1e9) * 1e9)))
    }
}

/// A clock that tests set and move by hand: time stands still until they do, and a task sleeping on it wakes when
/// `advance(by:)` or `set(_:)` moves the time past its deadline. `sleeping(_:)` waits until tasks are asleep on it,
/// so a test knows a timer has got to its wait before it moves the time.
///
/// For example:
/// ```swift
/// let clock = FixedWallClock(start)
/// let loop = Task { try await clock.sleep(for: .seconds(60)); print("woke") }
/// await clock.sleeping(1)
/// clock.advance(by: 60)   // "woke"
/// ```
public final class FixedWallClock: WallClock, @unchecked Sendable {
    private struct Sleeper {
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Watcher {
        var count: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private let lock = NSLock()
    private var current: Date
    private var sleepers: [UInt64: Sleeper] = [:]
    private var watchers: [Watcher] = []
    private var nextID: UInt64 = 0

    public init(_ start: Date) { current = start }

    public func now() -> Date { lock.withLock { current } }

    /// Moves the time forward and wakes the tasks whose deadline it reaches.
    public func advance(by seconds: TimeInterval) { move { $0 += seconds } }

    /// Moves the time forward (by `duration`) and wakes the tasks whose deadline it reaches.
    public func advance(by duration: Duration) { advance(by: duration.timeInterval) }

    /// Sets the time (forward or back) and wakes the tasks whose deadline it reaches.
    public func set(_ date: Date) { move { $0 = date } }

    /// How many tasks sleep on this clock now.
    public var sleeperCount: Int { lock.withLock { sleepers.count } }

    /// Returns once at least `count` tasks sleep on this clock.
    public func sleeping(_ count: Int = 1) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = lock.withLock {
                guard sleepers.count < count else { return true }
                watchers.append(Watcher(count: count, continuation: continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    public func sleep(until deadline: Date) async throws {
        let id = lock.withLock {
            nextID += 1
            return nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (woken, watching) = lock.withLock { () -> (Bool, [Watcher]) in
                    guard deadline > current else { return (true, []) }
                    if Task.isCancelled { return (true, []) }
                    sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return (false, takeWatchers())
                }
                if woken {
                    Task.isCancelled ? continuation.resume(throwing: CancellationError()) : continuation.resume()
                }
                for watcher in watching { watcher.continuation.resume() }
            }
        } onCancel: {
            let sleeper = lock.withLock { sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    private func move(_ change: (inout Date) -> Void) {
        let due = lock.withLock { () -> [Sleeper] in
            change(&current)
            let now = current
            let ids = sleepers.filter { $0.value.deadline <= now }.keys
            return ids.compactMap { sleepers.removeValue(forKey: $0) }
        }
        for sleeper in due.sorted(by: { $0.deadline < $1.deadline }) { sleeper.continuation.resume() }
    }

    /// The watchers whose count the sleepers now reach, removed. Called with the lock held.
    private func takeWatchers() -> [Watcher] {
        let ready = watchers.filter { $0.count <= sleepers.count }
        watchers.removeAll { $0.count <= sleepers.count }
        return ready
    }
}

/// A timer that does its work now and then again after every interval by the clock, until its task is cancelled:
/// the daemon's retention run and early-warning check.
///
/// For example:
/// ```swift
/// await PeriodicTimer.run(every: .seconds(900), on: clock) { await monitor.checkAndLog() }
/// ```
public enum PeriodicTimer {
    public static func run(every interval: Duration, on clock: any WallClock, _ work: () async -> Void) async {
        while !Task.isCancelled {
            await work()
            do { try await clock.sleep(for: interval) } catch { return }
        }
    }
}
