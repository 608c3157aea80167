import Foundation
import MediationStore
import Metrics
import Prometheus

/// The daemon's metrics: recorded through swift-metrics, kept in one Prometheus registry, served at
/// `GET /v1/metrics`.
///
/// For example:
/// ```swift
/// OperationsMetrics.bootstrap()
/// Counter(label: OperationsMetrics.sessionsBooked).increment()
/// ```
public enum OperationsMetrics {
    /// The registry `GET /v1/metrics` prints.
    public static let registry = PrometheusCollectorRegistry()

    public static let requests = "mediation_http_requests_total"
    public static let outbox = "mediation_outbox_messages"
    public static let sessionsBooked = "mediation_sessions_booked_total"
    /// From a message falling due to its channel taking it; MediationNotify records it under this name.
    public static let deliveryLatency = "mediation_delivery_latency_seconds"

    private static let bootstrapped: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Deliveries wait for their moment, retries and quiet hours: seconds to hours, not milliseconds.
        factory.durationHistogramBuckets[deliveryLatency] = [
            .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(60),
            .seconds(300), .seconds(900), .seconds(3600), .seconds(4 * 3600), .seconds(24 * 3600),
        ]
        MetricsSystem.bootstrap(factory)
    }()

    /// Sends swift-metrics to the registry; once per process, later calls do nothing.
    public static func bootstrap() { _ = bootstrapped }

    /// Everything recorded, in the Prometheus text format, then the store's group-commit totals.
    static func exposition(groupCommit: GroupCommitStatistics) -> String {
        registry.emitToString() + groupCommitExposition(groupCommit)
    }

    /// The group committer's totals as Prometheus counters. They are read from the store when asked for, not
    /// recorded as they happen: the single writer keeps them under the lock it already takes for its queue.
    static func groupCommitExposition(_ s: GroupCommitStatistics) -> String {
        let counters: [(String, String, String)] = [
            ("mediation_group_commit_rounds_total", "Transactions the group committer ran.", "\(s.rounds)"),
            (
                "mediation_group_commit_writes_total", "Writes those transactions carried, each in a savepoint.",
                "\(s.writes)"
            ),
            (
                "mediation_group_commit_failed_rounds_total",
                "Rounds that could not begin or commit: nothing of them stored.",
                "\(s.failedRounds)"
            ),
            (
                "mediation_group_commit_run_seconds_total", "Time the single writer spent running the writes.",
                seconds(s.runNanoseconds)
            ),
            (
                "mediation_group_commit_commit_seconds_total",
                "Time the single writer spent committing: the log's frames and their fsync.",
                seconds(s.commitNanoseconds)
            ),
        ]
        return counters.map { name, help, value in "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(value)\n"
        }
        .joined()
    }

    private static func seconds(_ nanoseconds: UInt64) -> String { String(format: "%.6f", Double(nanoseconds) / 1e9) }
}
