import Foundation
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

    /// Everything recorded, in the Prometheus text format.
    static func exposition() -> String { registry.emitToString() }
}
