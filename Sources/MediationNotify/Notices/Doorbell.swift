import Synchronization

/// Wakes a waiting loop. Unlike an `AsyncStream`, which ends for good when a task waiting on it is cancelled,
/// a doorbell can be waited on again after a wait was cancelled (a loop that races it against a sleep).
///
/// For example:
/// ```swift
/// let bell = Doorbell()
/// bell.ring()
/// await bell.wait()  // returns at once: the ring was kept
/// ```
public final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes the waiter, or the next one to wait if none is waiting.
    public func ring() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                s.rung = true
                return nil
            }
            s.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the next ring (at once if one came since the last wait), or when the task is cancelled.
    /// One waiter at a time.
    public func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checked under the lock the cancellation handler takes, so a cancellation is never missed.
                let now = state.withLock { s -> Bool in
                    if s.rung || Task.isCancelled {
                        s.rung = false
                        return true
                    }
                    s.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            // Ends this wait; the ring it leaves behind, if any, only costs the next wait one early look.
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
    }
}
