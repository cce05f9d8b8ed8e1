import PixelFlowLocking
import PixelFlowProtocol
import Prometheus

/// Publishes what the cluster state holds into the registry at each scrape: gauges are set; totals the state
/// counts (they only grow) advance their counters by the increase since the last scrape; a worker's series go
/// when the worker does, so the series follow the live workers and the configured tenants, bounded.
final class StateMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private struct Published {
        /// The value each counter series was last advanced to, by name and labels.
        var counted: [String: Double] = [:]
        var workerGauges: [String: [Gauge]] = [:]
    }

    private let published = Locked(Published())

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    /// Brings the registry up to date with `coordinator`'s state. Scrapes run one at a time per call site; the lock
    /// keeps two at once from advancing a counter twice.
    func publish(_ coordinator: Coordinator) {
        let stats = coordinator.stats
        let workers = coordinator.workerList()
        published.withLock { published in
            gauge("queue_depth", "Jobs waiting for a worker.", Double(stats.total.queued))
            gauge("jobs_running", "Jobs running on workers.", Double(stats.total.running))
            gauge("workers", "Registered workers.", Double(workers.count))
            gauge(
                "connections_open", "Connections open on the protocol port (limits.max_connections).",
                Double(coordinator.connectionGate.count))
            count("jobs_admitted", "Jobs admitted.", Double(stats.total.admitted), &published)
            count("jobs_rejected", "Jobs rejected at admission.", Double(stats.total.rejected), &published)
            count("jobs_succeeded", "Jobs that succeeded.", Double(stats.total.succeeded), &published)
            count("jobs_failed", "Jobs that failed or were cancelled.", Double(stats.total.failed), &published)
            count(
                "results_discarded", "Worker results dropped by fencing or as duplicates.",
                Double(coordinator.discardedResults), &published)
            for tenant in stats.tenants {
                let labels = [("tenant", tenant.name)]
                let counters = tenant.counters
                gauge("tenant_queue_depth", "Jobs waiting for a worker, per tenant.", Double(counters.queued), labels)
                gauge("tenant_jobs_running", "Jobs running, per tenant.", Double(counters.running), labels)
                count(
                    "tenant_jobs_admitted", "Jobs admitted, per tenant.", Double(counters.admitted), &published, labels)
                count(
                    "tenant_jobs_rejected", "Jobs rejected, per tenant.", Double(counters.rejected), &published, labels)
                count(
                    "tenant_jobs_succeeded", "Jobs succeeded, per tenant.", Double(counters.succeeded), &published,
                    labels)
                count("tenant_jobs_failed", "Jobs failed, per tenant.", Double(counters.failed), &published, labels)
            }
            publishUsage(coordinator.usageTotals, &published)
            publishWorkers(workers, &published)
        }
    }

    /// Metered usage per tenant (`pfctl usage` sums the same buckets): totals the job store keeps across restarts.
    private func publishUsage(_ totals: [String: UsageCounts], _ published: inout Published) {
        let help = "per tenant, metered (kept across restarts)"
        for (tenant, usage) in totals {
            let labels = [("tenant", tenant)]
            count("usage_jobs_admitted", "Jobs admitted, \(help).", Double(usage.admitted), &published, labels)
            count("usage_jobs_succeeded", "Jobs succeeded, \(help).", Double(usage.succeeded), &published, labels)
            count("usage_jobs_failed", "Jobs failed, \(help).", Double(usage.failed), &published, labels)
            count("usage_jobs_cancelled", "Jobs cancelled, \(help).", Double(usage.cancelled), &published, labels)
            count(
                "usage_source_megapixels", "Source megapixels decoded by workers, \(help).",
                Double(usage.sourcePixels) / 1_000_000, &published, labels)
            count("usage_bytes_in", "Source bytes received, \(help).", Double(usage.bytesIn), &published, labels)
            count("usage_bytes_out", "Variant bytes produced, \(help).", Double(usage.bytesOut), &published, labels)
            count(
                "usage_worker_cpu_seconds", "Worker CPU time spent on tasks, \(help).",
                Double(usage.cpuMilliseconds) / 1000, &published, labels)
        }
    }

    /// Per-worker gauges; the series of a worker that left are unregistered.
    private func publishWorkers(_ workers: [WorkerList.Worker], _ published: inout Published) {
        var live: [String: [Gauge]] = [:]
        for worker in workers {
            let labels = [("worker", worker.name)]
            let slots = gauge("worker_slots", "Slots per worker.", Double(worker.slots), labels)
            let busy = gauge("worker_busy", "Busy slots per worker.", Double(worker.busy), labels)
            let done = gauge(
                "worker_tasks_done", "Tasks done per worker, since it registered.", Double(worker.done), labels)
            let failed = gauge(
                "worker_tasks_failed", "Tasks failed per worker, since it registered.", Double(worker.failed), labels)
            live[worker.name] = [slots, busy, done, failed]
        }
        for (name, gauges) in published.workerGauges where live[name] == nil {
            gauges.forEach(registry.unregisterGauge)
        }
        published.workerGauges = live
    }

    @discardableResult
    private func gauge(_ name: String, _ help: String, _ value: Double, _ labels: [(String, String)] = []) -> Gauge {
        let gauge = registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "pixelflow", metricName: name, unitName: "", helpText: help),
            labels: labels)
        gauge.set(value)
        return gauge
    }

    private func count(
        _ name: String, _ help: String, _ value: Double, _ published: inout Published, _ labels: [(String, String)] = []
    ) {
        let counter = registry.makeCounter(
            descriptor: CoordinatorMetrics.name(name, "total", help), labels: labels)
        let key = name + labels.map { "\u{0}\($0.1)" }.joined()
        let increase = value - (published.counted[key] ?? 0)
        guard increase > 0 else { return }
        counter.increment(by: increase)
        published.counted[key] = value
    }
}
