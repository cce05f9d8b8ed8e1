import NIOCore
import NIOHTTP1
import NIOPosix
import PixelFlowProtocol

/// `/healthz` (the process is up), `/readyz` (some worker can take work) and `/metrics` (Prometheus text).
public struct StatusHTTPServer: Sendable {
    let coordinator: Coordinator
    let group: any EventLoopGroup

    public init(coordinator: Coordinator, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.coordinator = coordinator
        self.group = group
    }

    public func bind(host: String, port: Int) async throws -> any Channel {
        let coordinator = self.coordinator
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(StatusHTTPHandler(coordinator: coordinator))
                }
            }
            .bind(host: host, port: port).get()
    }
}

final class StatusHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let coordinator: Coordinator
    private var path = "/"

    init(coordinator: Coordinator) { self.coordinator = coordinator }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "/")
        case .body:
            break
        case .end:
            let (status, body, type) = response()
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    private func response() -> (HTTPResponseStatus, String, String) {
        switch path {
        case "/healthz":
            return (.ok, "ok\n", "text/plain")
        case "/readyz":
            guard let reason = coordinator.unreadyReason else { return (.ok, "ready\n", "text/plain") }
            return (.serviceUnavailable, reason + "\n", "text/plain")
        case "/metrics":
            return (.ok, PrometheusText.render(coordinator), "text/plain; version=0.0.4")
        default:
            return (.notFound, "not found\n", "text/plain")
        }
    }
}

/// The coordinator's metrics in the Prometheus text format.
enum PrometheusText {
    static func render(_ coordinator: Coordinator) -> String {
        let stats = coordinator.stats
        let workers = coordinator.workerList()
        let metrics = coordinator.metrics
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            lines.append("# HELP pixelflow_\(name) \(help)")
            lines.append("# TYPE pixelflow_\(name) \(type)")
            for sample in samples { lines.append("pixelflow_\(name)\(sample.labels) \(sample.value)") }
        }
        func perTenant(_ value: (Stats.Counters) -> String) -> [(labels: String, value: String)] {
            stats.tenants.map { (#"{tenant="\#(escape($0.name))"}"#, value($0.counters)) }
        }
        metric(
            "queue_depth", "gauge", "Jobs waiting for a worker.",
            [("", "\(stats.total.queued)")] + perTenant { "\($0.queued)" })
        metric(
            "jobs_running", "gauge", "Jobs running on workers.",
            [("", "\(stats.total.running)")] + perTenant { "\($0.running)" })
        metric(
            "jobs_admitted_total", "counter", "Jobs admitted.",
            [("", "\(stats.total.admitted)")] + perTenant { "\($0.admitted)" })
        metric(
            "jobs_rejected_total", "counter", "Jobs rejected at admission.",
            [("", "\(stats.total.rejected)")] + perTenant { "\($0.rejected)" })
        metric(
            "jobs_succeeded_total", "counter", "Jobs that succeeded.",
            [("", "\(stats.total.succeeded)")] + perTenant { "\($0.succeeded)" })
        metric(
            "jobs_failed_total", "counter", "Jobs that failed or were cancelled.",
            [("", "\(stats.total.failed)")] + perTenant { "\($0.failed)" })
        metric(
            "results_discarded_total", "counter", "Worker results dropped by fencing or as duplicates.",
            [("", "\(coordinator.discardedResults)")])
        metric("workers", "gauge", "Registered workers.", [("", "\(workers.count)")])
        metric(
            "worker_slots", "gauge", "Slots per worker.",
            workers.map { (#"{worker="\#(escape($0.name))"}"#, "\($0.slots)") })
        metric(
            "worker_busy", "gauge", "Busy slots per worker.",
            workers.map { (#"{worker="\#(escape($0.name))"}"#, "\($0.busy)") })
        metric(
            "worker_tasks_done_total", "counter", "Tasks done per worker.",
            workers.map { (#"{worker="\#(escape($0.name))"}"#, "\($0.done)") })
        metric(
            "worker_tasks_failed_total", "counter", "Tasks failed per worker.",
            workers.map { (#"{worker="\#(escape($0.name))"}"#, "\($0.failed)") })
        metric(
            "bytes_in_total", "counter", "Bytes received on the protocol port.",
            [("", "\(metrics.bytesIn.load(ordering: .relaxed))")])
        metric(
            "bytes_out_total", "counter", "Bytes sent on the protocol port.",
            [("", "\(metrics.bytesOut.load(ordering: .relaxed))")])
        metric(
            "connections_total", "counter", "Connections accepted.",
            [("", "\(metrics.connectionsOpened.load(ordering: .relaxed))")])
        metric(
            "handshake_failures_total", "counter", "Handshakes refused (bad key, timeout, version).",
            [("", "\(metrics.handshakeFailures.load(ordering: .relaxed))")])
        metric(
            "protocol_errors_total", "counter", "Connections closed for a protocol violation.",
            [("", "\(metrics.protocolErrors.load(ordering: .relaxed))")])
        usageMetrics(coordinator.usageTotals, into: metric)
        if let webhooks = coordinator.webhooks {
            metric(
                "webhook_attempts_total", "counter", "Webhook delivery attempts.",
                [("", "\(webhooks.attempts.load(ordering: .relaxed))")])
            metric(
                "webhooks_delivered_total", "counter", "Webhook events delivered (a 2xx answer).",
                [("", "\(webhooks.delivered.load(ordering: .relaxed))")])
            metric(
                "webhooks_failed_total", "counter", "Webhook events given up (retry window over, 410, refused URL).",
                [("", "\(webhooks.failed.load(ordering: .relaxed))")])
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Metered usage per tenant (`pfctl usage` sums the same buckets): totals kept by the job store, so they carry
    /// on across restarts.
    private static func usageMetrics(
        _ totals: [String: UsageCounts],
        into metric: (String, String, String, [(labels: String, value: String)]) -> Void
    ) {
        let tenants = totals.sorted { $0.key < $1.key }
        func perTenant(_ value: (UsageCounts) -> String) -> [(labels: String, value: String)] {
            tenants.map { (#"{tenant="\#(escape($0.key))"}"#, value($0.value)) }
        }
        let help = "per tenant, metered (kept across restarts)"
        metric("usage_jobs_admitted_total", "counter", "Jobs admitted, \(help).", perTenant { "\($0.admitted)" })
        metric("usage_jobs_succeeded_total", "counter", "Jobs succeeded, \(help).", perTenant { "\($0.succeeded)" })
        metric("usage_jobs_failed_total", "counter", "Jobs failed, \(help).", perTenant { "\($0.failed)" })
        metric("usage_jobs_cancelled_total", "counter", "Jobs cancelled, \(help).", perTenant { "\($0.cancelled)" })
        metric(
            "usage_source_megapixels_total", "counter", "Source megapixels decoded by workers, \(help).",
            perTenant { "\(Double($0.sourcePixels) / 1_000_000)" })
        metric("usage_bytes_in_total", "counter", "Source bytes received, \(help).", perTenant { "\($0.bytesIn)" })
        metric("usage_bytes_out_total", "counter", "Variant bytes produced, \(help).", perTenant { "\($0.bytesOut)" })
        metric(
            "usage_worker_cpu_seconds_total", "counter", "Worker CPU time spent on tasks, \(help).",
            perTenant { "\(Double($0.cpuMilliseconds) / 1000)" })
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
