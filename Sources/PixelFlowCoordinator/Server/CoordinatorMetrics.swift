import Prometheus

/// The coordinator's metrics in a Prometheus registry (swift-prometheus, the Prometheus backend of swift-metrics):
/// counters and histograms recorded where their events happen. What the cluster state holds — queue depth, workers,
/// per-tenant totals — is published into the same registry at each scrape (`StateMetrics`); the HTTP API counts
/// its requests there too (`APIMetricsMiddleware`). Every series has a HELP line and bounded labels (tenants from the
/// config, live workers, known formats), which `promtool check metrics` holds it to in the tests.
final class CoordinatorMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    let bytesIn: Counter
    let bytesOut: Counter
    let connectionsOpened: Counter
    let connectionsRefused: Counter
    let handshakeFailures: Counter
    let protocolErrors: Counter
    /// From a job's admission (source complete) to its first ASSIGN.
    let queueWait: DurationHistogram
    /// From admission to JOB_DONE, succeeded jobs.
    let jobDuration: DurationHistogram
    /// A task's time on its worker (TASK_DONE `elapsed_ms`): decode, every resize and encode, the transfers.
    let taskDuration: DurationHistogram
    /// The source's decode on its worker (TASK_DONE `decode_ms`, from workers that report it).
    let decodeDuration: DurationHistogram
    let sourceBytes: ValueHistogram
    let variantBytes: ValueHistogram
    /// Resize and encode time per format label (made once: a registry lookup per variant would cost a lock).
    private let encodeDurations: [String: DurationHistogram]
    private let otherEncodeDuration: DurationHistogram
    /// Each webhook POST, to its answer; and how each attempt ended, by outcome.
    let webhookDuration: DurationHistogram
    let webhookOutcomes: [String: Counter]
    let state: StateMetrics

    init() {
        bytesIn = registry.makeCounter(
            descriptor: Self.name("bytes_in", "total", "Bytes received on the protocol port."))
        bytesOut = registry.makeCounter(descriptor: Self.name("bytes_out", "total", "Bytes sent on the protocol port."))
        connectionsOpened = registry.makeCounter(descriptor: Self.name("connections", "total", "Connections accepted."))
        connectionsRefused = registry.makeCounter(
            descriptor: Self.name(
                "connections_refused", "total", "Connections closed on arrival: limits.max_connections were open."))
        handshakeFailures = registry.makeCounter(
            descriptor: Self.name("handshake_failures", "total", "Handshakes refused (bad key, timeout, version)."))
        protocolErrors = registry.makeCounter(
            descriptor: Self.name("protocol_errors", "total", "Connections closed for a protocol violation."))
        queueWait = registry.makeDurationHistogram(
            descriptor: Self.name("job_queue_wait", "seconds", "From a job's admission to its first assignment."),
            buckets: Self.seconds([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300]))
        jobDuration = registry.makeDurationHistogram(
            descriptor: Self.name("job_duration", "seconds", "From admission to JOB_DONE, per succeeded job."),
            buckets: Self.seconds([0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]))
        taskDuration = registry.makeDurationHistogram(
            descriptor: Self.name("task_duration", "seconds", "A task's time on its worker, as the worker reports it."),
            buckets: Self.seconds([0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]))
        decodeDuration = registry.makeDurationHistogram(
            descriptor: Self.name("source_decode", "seconds", "A source's decode on its worker, per succeeded task."),
            buckets: Self.seconds([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]))
        sourceBytes = registry.makeValueHistogram(
            descriptor: Self.name("source", "bytes", "Size of each admitted job's source."),
            buckets: [16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864])
        variantBytes = registry.makeValueHistogram(
            descriptor: Self.name("variant", "bytes", "Size of each variant produced."),
            buckets: [1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216])
        let registry = self.registry
        func encodeHistogram(_ format: String) -> DurationHistogram {
            registry.makeDurationHistogram(
                descriptor: Self.name(
                    "variant_encode", "seconds", "A variant's resize and encode on its worker, by format."),
                labels: [("format", format)],
                buckets: Self.seconds([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]))
        }
        encodeDurations = Dictionary(uniqueKeysWithValues: OutputFormatLabel.known.map { ($0, encodeHistogram($0)) })
        otherEncodeDuration = encodeHistogram("other")
        webhookDuration = registry.makeDurationHistogram(
            descriptor: Self.name("webhook_delivery", "seconds", "Time of each webhook POST, to its answer."),
            buckets: Self.seconds([0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]))
        var outcomes: [String: Counter] = [:]
        for outcome in ["delivered", "retry", "gave_up"] {
            outcomes[outcome] = registry.makeCounter(
                descriptor: Self.name("webhook_deliveries", "total", "Webhook delivery attempts, by outcome."),
                labels: [("outcome", outcome)])
        }
        webhookOutcomes = outcomes
        state = StateMetrics(registry: registry)
    }

    /// A variant's encode time on its worker, by format (VARIANT `elapsed_ms`: its resize and encode).
    func encodeDuration(format: String) -> DurationHistogram {
        encodeDurations[format] ?? otherEncodeDuration
    }

    /// One webhook delivery attempt: its time, and how it ended (`delivered`, `retry`, `gave_up`).
    func webhookAttempt(outcome: String, duration: Duration) {
        webhookOutcomes[outcome]?.increment()
        webhookDuration.record(duration)
    }

    static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "pixelflow", metricName: metric, unitName: unit, helpText: help)
    }

    private static func seconds(_ values: [Double]) -> [Duration] {
        values.map { .nanoseconds(Int64($0 * 1_000_000_000)) }
    }
}

/// Label values for formats: the known ones, and `other` for anything a worker makes up (the series stay bounded).
enum OutputFormatLabel {
    static let known: Set<String> = ["jpeg", "png", "webp", "avif", "heic", "gif"]
}
