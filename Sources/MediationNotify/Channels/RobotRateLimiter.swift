import Foundation
import Synchronization

/// A sliding-window limit per robot URL: at most `limit` sends in any `window` seconds.
///
/// A caller reserves the earliest slot the window allows and then waits for it outside the lock, so callers are
/// served in the order they asked and none is starved. Reservations more than `maximumWait` ahead are refused.
final class RobotRateLimiter: Sendable {
    let limit: Int
    let window: TimeInterval
    let maximumWait: TimeInterval
    /// Per robot URL: the times of sends in the last window and of reservations ahead, in ascending order.
    private let slots = Mutex<[String: [Date]]>([:])

    init(limit: Int, window: TimeInterval, maximumWait: TimeInterval) {
        self.limit = max(1, limit)
        self.window = window
        self.maximumWait = maximumWait
    }

    /// Reserves a send to `key` and returns how many seconds to wait before making it (0 when it may go now), or
    /// nil, reserving nothing, when the earliest free slot is more than `maximumWait` away.
    func reserve(_ key: String, at now: Date) -> TimeInterval? {
        let horizon = now.addingTimeInterval(-window)
        return slots.withLock { all in
            // Forget robots that have been quiet for a window, so the table does not grow with every URL ever used.
            all = all.filter { $0.key == key || ($0.value.last ?? horizon) > horizon }
            var times = all[key, default: []]
            times.removeAll { $0 <= horizon }
            // With `limit` slots taken, the next one opens a window after the limit-th latest.
            let slot = times.count < limit ? now : times[times.count - limit].addingTimeInterval(window)
            let delay = max(0, slot.timeIntervalSince(now))
            guard delay <= maximumWait else {
                all[key] = times.isEmpty ? nil : times
                return nil
            }
            times.append(slot)
            all[key] = times
            return delay
        }
    }
}
