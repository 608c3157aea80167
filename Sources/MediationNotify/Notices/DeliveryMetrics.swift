import Foundation
import MediationCore
import MediationStore
import Metrics

/// The delivery latency histogram: from a message falling due to its channel taking it (retries and quiet hours
/// included), recorded once the outcome is stored. `GET /v1/metrics` shows it as
/// `mediation_delivery_latency_seconds`, with the channel as a label.
enum DeliveryMetrics {
    static let latency = "mediation_delivery_latency_seconds"

    static func recordHandedOver(_ outcomes: [AttemptRecord], of messages: [OutboxMessage], now: Date) {
        let byID = Dictionary(messages.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for outcome in outcomes where outcome.status == .sent {
            guard let message = byID[outcome.message] else { continue }
            let waited = now.timeIntervalSince(max(message.dueAt, message.createdAt))
            Metrics.Timer(label: latency, dimensions: [("channel", outcome.channel)])
                .recordNanoseconds(Int64(max(0, waited) * 1_000_000_000))
        }
    }
}
