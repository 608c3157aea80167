import Foundation

/// The dispatcher's view of a store that does not take the outcome of its deliveries (a full disk, a store turned
/// read-only). While it lasts nothing is sent, the store is tried again after a wait that doubles from `firstWait`
/// up to `longestWait`, and the log hears of it when it begins and then at most once every `logEvery` seconds of the
/// injected clock, however often the store is tried.
///
/// For example:
/// ```swift
/// var outage = StoreOutage()
/// outage.failed(at: t)         // (0.5 s, log: true)
/// outage.failed(at: t + 1)     // (1 s, log: false)
/// outage.ended(at: t + 90)     // 90: it was logged, so its end is logged too
/// ```
struct StoreOutage: Sendable {
    static let firstWait: Duration = .milliseconds(500)
    static let longestWait: Duration = .seconds(10)
    static let logEvery: TimeInterval = 60

    /// When the outage began; nil while the store takes outcomes.
    private(set) var since: Date?
    /// When the log last heard of an outage (this one or an earlier one).
    private var lastLogged: Date?
    /// Whether the log heard of this outage, so that its end is worth a line too.
    private var logged = false
    private var wait = StoreOutage.firstWait

    /// A pass failed at `now`: how long to wait before the next, and whether to log it.
    mutating func failed(at now: Date) -> (wait: Duration, log: Bool) {
        if since == nil {
            since = now
            wait = Self.firstWait
            logged = false
        } else {
            wait = min(wait * 2, Self.longestWait)
        }
        let log = lastLogged.map { now.timeIntervalSince($0) >= Self.logEvery } ?? true
        if log {
            lastLogged = now
            logged = true
        }
        return (wait, log)
    }

    /// A pass worked at `now`: how long the outage lasted, when there was one and the log heard of it.
    mutating func ended(at now: Date) -> TimeInterval? {
        guard let began = since else { return nil }
        since = nil
        return logged ? now.timeIntervalSince(began) : nil
    }
}
