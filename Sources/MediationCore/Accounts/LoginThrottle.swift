import Foundation
import Synchronization

/// Failed console sign-ins counted by the address they came from, whatever names were tried: at `limit` failures
/// within `window`, that address is refused until the oldest of them is `window` old, without checking a password.
/// The account lock-out (five wrong passwords) guards one account; this guards against one machine trying many.
/// Kept in memory: a restart forgets it, which only gives an attacker what a quarter of an hour would.
///
/// For example:
/// ```swift
/// let throttle = LoginThrottle()
/// throttle.failed("10.1.2.3", now: now)
/// throttle.refusedUntil("10.1.2.3", now: now)   // nil until the 20th failure
/// ```
public final class LoginThrottle: Sendable {
    public static let limit = 20
    public static let window: TimeInterval = 15 * 60
    /// Addresses remembered at most; the oldest are forgotten first when more try.
    static let addresses = 10_000

    private let failures = Mutex<[String: [Date]]>([:])

    public init() {}

    /// Counts one failed sign-in from `address` at `now`.
    public func failed(_ address: String, now: Date) {
        failures.withLock { all in
            var recent = (all[address] ?? []).filter { now.timeIntervalSince($0) < Self.window }
            recent.append(now)
            all[address] = Array(recent.suffix(Self.limit))
            if all.count > Self.addresses {
                let stale = all.filter { $0.value.last.map { now.timeIntervalSince($0) >= Self.window } ?? true }
                for key in stale.keys { all[key] = nil }
                while all.count > Self.addresses,
                    let oldest = all.min(by: { ($0.value.last ?? now) < ($1.value.last ?? now) })
                {
                    all[oldest.key] = nil
                }
            }
        }
    }

    /// Until when `address` is refused at `now`, or nil when it may try.
    public func refusedUntil(_ address: String, now: Date) -> Date? {
        failures.withLock { all in
            let recent = (all[address] ?? []).filter { now.timeIntervalSince($0) < Self.window }
            guard recent.count >= Self.limit, let oldest = recent.first else { return nil }
            return oldest.addingTimeInterval(Self.window)
        }
    }
}
