import Hummingbird
import Prometheus

/// Counts every API answer by method and status class, and times it, on the coordinator's metrics registry
/// (`/metrics` on the status port). Outermost, so it sees the answers the error middleware makes of thrown errors.
/// Its series are made once, so a request costs no registry lookup.
struct APIMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods the API answers, and `other` for the rest: the label stays bounded.
    static var methods: [String] { ["GET", "POST", "PUT", "DELETE", "other"] }
    static var statusClasses: [String] { ["1xx", "2xx", "3xx", "4xx", "5xx"] }

    private let answers: [String: Counter]
    private let duration: DurationHistogram

    init(registry: PrometheusCollectorRegistry) {
        var answers: [String: Counter] = [:]
        for method in Self.methods {
            for status in Self.statusClasses {
                answers[method + status] = registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        namespace: "pixelflow", metricName: "api_requests", unitName: "total",
                        helpText: "HTTP API requests answered, by method and status class."),
                    labels: [("method", method), ("status", status)])
            }
        }
        self.answers = answers
        duration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "pixelflow", metricName: "api_request_duration", unitName: "seconds",
                helpText: "Time to answer an HTTP API request."),
            buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30].map {
                .nanoseconds(Int64($0 * 1_000_000_000))
            })
    }

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
        let statusClass = Self.statusClasses[min(max(status / 100 - 1, 0), 4)]
        answers[method + statusClass]?.increment()
        duration.record(ContinuousClock.now - start)
    }
}
