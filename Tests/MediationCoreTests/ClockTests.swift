import Foundation
import MediationCore
import Synchronization
import Testing

/// The hand-moved clock the tests drive time with, and the timer on it: nothing here waits for real time.
@Suite struct ClockTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aSleepEndsWhenTheClockIsMovedPastItsDeadline_andNotBefore() async throws {
        let clock = FixedWallClock(start)
        let woke = Mutex<Date?>(nil)
        let sleeper = Task {
            try await clock.sleep(for: .seconds(60))
            woke.withLock { $0 = clock.now() }
        }
        await clock.sleeping()
        clock.advance(by: 59)
        #expect(clock.sleeperCount == 1 && woke.withLock { $0 } == nil)
        clock.advance(by: 1)
        try await sleeper.value
        #expect(woke.withLock { $0 } == start.addingTimeInterval(60))
        #expect(clock.sleeperCount == 0)
        // A deadline already passed does not sleep at all.
        try await clock.sleep(until: start)
    }

    @Test func aCancelledSleepThrowsAndLeavesTheClock() async throws {
        let clock = FixedWallClock(start)
        let sleeper = Task { try await clock.sleep(for: .seconds(3600)) }
        await clock.sleeping()
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func theTimerWorksAtOnceAndThenEveryInterval() async throws {
        let clock = FixedWallClock(start)
        let runs = Mutex<[Date]>([])
        let timer = Task {
            await PeriodicTimer.run(every: .seconds(900), on: clock) {
                runs.withLock { $0.append(clock.now()) }
            }
        }
        defer { timer.cancel() }
        await clock.sleeping()
        #expect(runs.withLock { $0 } == [start])
        clock.advance(by: 899)
        await clock.sleeping()
        #expect(runs.withLock { $0.count } == 1)
        clock.advance(by: 1)
        await clock.sleeping()
        clock.advance(by: 900)
        await clock.sleeping()
        #expect(runs.withLock { $0 } == [start, start + 900, start + 1800])
        timer.cancel()
        await timer.value
        #expect(clock.sleeperCount == 0, "a cancelled timer stops sleeping")
    }
}
