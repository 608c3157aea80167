import Hummingbird
import MediationCore
import Metrics

extension OperationsMetrics {
    /// The outbox gauges, refreshed at each scrape.
    static func recordOutbox(_ counts: [OutboxStatus: Int]) {
        for state in OutboxStatus.allCases {
            Gauge(label: outbox, dimensions: [("state", state.rawValue)]).record(counts[state] ?? 0)
        }
    }
}

/// Counts every answer by route template (never the raw path, so an id or a probe cannot add series), method and
/// status. It sits outside the error middleware, so it sees the status the caller got.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private static var methods: Set<String> { ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            count(request, context, status: 500)
            throw error
        }
        count(request, context, status: Int(response.status.code))
        return response
    }

    private func count(_ request: Request, _ context: Context, status: Int) {
        let method = request.method.rawValue
        Counter(
            label: OperationsMetrics.requests,
            dimensions: [
                ("route", context.endpointPath ?? "unmatched"),
                ("method", Self.methods.contains(method) ? method : "other"), ("status", String(status)),
            ]
        ).increment()
    }
}
