import Hummingbird
import Prometheus

/// Counts every API answer by method and status class, and times it, on the coordinator's metrics registry
/// (`/metrics` on the status port). Outermost, so it sees the answers the error middleware makes of thrown errors.
struct APIMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let registry: PrometheusCollectorRegistry

    static var methods: Set<String> { ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"] }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let method = Self.methods.contains(request.method.rawValue) ? request.method.rawValue : "other"
        do {
            let response = try await next(request, context)
            record(method: method, status: Int(response.status.code), since: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(method: method, status: Int(status), since: start)
            throw error
        }
    }

    private func record(method: String, status: Int, since start: ContinuousClock.Instant) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "pixelflow", metricName: "api_requests", unitName: "total",
                helpText: "HTTP API requests answered, by method and status class."),
            labels: [("method", method), ("status", "\(status / 100)xx")]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "pixelflow", metricName: "api_request_duration", unitName: "seconds",
                helpText: "Time to answer an HTTP API request."),
            buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30].map {
                .nanoseconds(Int64($0 * 1_000_000_000))
            }
        ).record(ContinuousClock.now - start)
    }
}
