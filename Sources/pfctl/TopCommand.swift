import ArgumentParser
import Foundation
import PixelFlowClient

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `pfctl top`: the cluster at a glance, refreshed like top(1) — workers and their slots, queue depth, throughput
/// over the last interval and job latency percentiles from the coordinator's `/metrics`.
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "A live view of workers, queue depth, throughput and latency.",
        discussion: """
            Counts and workers come over the protocol (STATS, WORKERS); latency percentiles come from the \
            coordinator's status port (/metrics: pixelflow_job_duration_seconds, admission to done), by default \
            the protocol port + 1 on the same host. Throughput and latency are over the last interval. Ctrl-C \
            stops it; --once prints one frame (two samples an interval apart) and exits.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Seconds between frames (and, with --once, between its two samples).")
    var interval: Double = 2

    @Flag(help: "Print one frame and exit.")
    var once = false

    @Option(
        help: ArgumentHelp("The coordinator's /metrics URL (default: http://HOST:PORT+1/metrics).", valueName: "URL"))
    var metrics: String?

    func validate() throws {
        guard (0.1...3600).contains(interval) else { throw ValidationError("--interval must be 0.1 to 3600 seconds") }
    }

    func run() async throws {
        let target = try connection.resolve()
        let metricsURL = metrics ?? "http://\(target.host):\(target.port + 1)/metrics"
        try await connection.withClient(command: "top") { client in
            var previous = try await TopSample.take(client, metricsURL: metricsURL)
            while true {
                try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                let current = try await TopSample.take(client, metricsURL: metricsURL)
                let frame = TopFrame(
                    coordinator: "\(target.host):\(target.port)", previous: previous, current: current
                ).render()
                if once {
                    print(frame, terminator: "")
                    return
                }
                // Clear the screen and home the cursor, then the frame: top(1)'s way, without curses.
                print("\u{1B}[H\u{1B}[2J" + frame, terminator: "")
                fflush(nil)
                previous = current
            }
        }
    }
}

/// One reading of the cluster.
struct TopSample {
    var time: ContinuousClock.Instant
    var stats: ClusterStats
    var workers: [WorkerInfo]
    /// nil when /metrics could not be read (the status port is private or elsewhere).
    var latency: LatencyHistogram?

    static func take(_ client: PixelFlowClient, metricsURL: String) async throws -> TopSample {
        let stats = try await client.stats()
        let workers = try await client.workers()
        var latency: LatencyHistogram?
        if let url = URL(string: metricsURL), let (data, _) = try? await URLSession.shared.data(from: url) {
            latency = LatencyHistogram("pixelflow_job_duration_seconds", in: String(decoding: data, as: UTF8.self))
        }
        return TopSample(time: .now, stats: stats, workers: workers, latency: latency)
    }
}

/// The text of one frame, from two samples.
struct TopFrame {
    var coordinator: String
    var previous: TopSample
    var current: TopSample

    func render() -> String {
        let elapsed = max(
            0.001,
            Double((current.time - previous.time).components.attoseconds) / 1e18
                + Double((current.time - previous.time).components.seconds))
        let now = current.stats.total
        let before = previous.stats.total
        let rate = { (delta: Int) in String(format: "%.1f", Double(max(0, delta)) / elapsed) }
        var lines: [String] = []
        lines.append("pixelflow top — \(coordinator) — every \(String(format: "%.1f", elapsed)) s")
        lines.append(
            "jobs: \(now.queued) queued, \(now.running) running · per second: \(rate(now.succeeded - before.succeeded)) "
                + "succeeded, \(rate(now.failed - before.failed)) failed, \(rate(now.rejected - before.rejected)) rejected"
        )
        lines.append("latency, admission to done: " + latencyText())
        let slots = current.workers.reduce(0) { $0 + $1.slots }
        let busy = current.workers.reduce(0) { $0 + $1.busy }
        lines.append("workers: \(current.workers.count), slots \(busy)/\(slots) busy")
        lines.append("")
        lines.append(Self.row(["WORKER", "ADDRESS", "SLOTS", "BUSY", "DONE", "FAILED", "HEARTBEAT"]))
        for worker in current.workers.sorted(by: { $0.name < $1.name }) {
            lines.append(
                Self.row([
                    worker.name, worker.address, "\(worker.slots)", "\(worker.busy)", "\(worker.done)",
                    "\(worker.failed)",
                    String(format: "%.1f s", Double(worker.lastHeartbeatMillisecondsAgo) / 1000),
                ]))
        }
        if !current.stats.tenants.isEmpty {
            lines.append("")
            lines.append(Self.row(["TENANT", "QUEUED", "RUNNING", "ADMITTED", "REJECTED", "SUCCEEDED", "FAILED"]))
            for tenant in current.stats.tenants.sorted(by: { $0.name < $1.name }) {
                let c = tenant.counters
                lines.append(
                    Self.row([
                        tenant.name, "\(c.queued)", "\(c.running)", "\(c.admitted)", "\(c.rejected)", "\(c.succeeded)",
                        "\(c.failed)",
                    ]))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func latencyText() -> String {
        guard let latest = current.latency else { return "n/a (the status port's /metrics cannot be read)" }
        let window = latest.since(previous.latency)
        guard let p50 = window.quantile(0.5), let p95 = window.quantile(0.95), let p99 = window.quantile(0.99) else {
            return "no job ended in the interval"
        }
        let seconds = { (value: Double) in String(format: "%.3f s", value) }
        return "p50 \(seconds(p50)), p95 \(seconds(p95)), p99 \(seconds(p99)) (\(Int(window.count)) jobs)"
    }

    private static func row(_ cells: [String]) -> String {
        let widths = [18, 22, 6, 6, 10, 10, 10]
        return zip(cells, widths).map { cell, width in
            cell.padding(toLength: max(width, cell.count + 1), withPad: " ", startingAt: 0)
        }
        .joined().trimmingCharacters(in: .whitespaces)
    }
}
