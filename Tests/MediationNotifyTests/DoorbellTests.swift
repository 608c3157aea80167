import Foundation
import Testing

@testable import MediationNotify

/// The outbox loop's wake-up: it must survive the loop cancelling a wait when its sleep wins.
struct DoorbellTests {
    /// True when `wait()` returns within `seconds`.
    func returns(_ bell: Doorbell, within seconds: Double) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await bell.wait()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    @Test func aRingIsKeptForTheNextWait() async {
        let bell = Doorbell()
        bell.ring()
        // A bound for a hang, not a speed: under a full `make test` on two cores the ringing task can wait seconds
        // for a thread.
        #expect(await returns(bell, within: 120))
        #expect(await returns(bell, within: 0.2) == false, "one ring wakes one wait")
    }

    @Test func aCancelledWaitLeavesTheBellWorking() async {
        let bell = Doorbell()
        // The loop's race: the sleep wins and the wait is cancelled, again and again.
        for _ in 0..<3 { #expect(await returns(bell, within: 0.05) == false) }
        // An AsyncStream would now be finished and every wait return at once: the loop would spin.
        #expect(await returns(bell, within: 0.3) == false, "a wait with no ring waits")
        Task {
            try? await Task.sleep(for: .milliseconds(50))
            bell.ring()
        }
        // A bound for a hang, not a speed: under a full `make test` on two cores the ringing task can wait seconds
        // for a thread.
        #expect(await returns(bell, within: 120))
    }
}
