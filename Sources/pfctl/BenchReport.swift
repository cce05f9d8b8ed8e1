import Foundation

/// Nearest-rank percentiles of a sample (p in 0...100); nil for an empty sample.
enum Percentile {
    static func of(_ sortedValues: [Double], _ p: Double) -> Double? {
        guard !sortedValues.isEmpty else { return nil }
        let rank = Int((p / 100 * Double(sortedValues.count)).rounded(.up))
        return sortedValues[min(max(rank, 1), sortedValues.count) - 1]
    }
}

/// What one benchmark job measured.
struct BenchSample: Sendable {
    /// From sending the admitted attempt's SUBMIT to JOB_DONE, in ms; nil when the job failed.
    var latencyMilliseconds: Double?
    /// From sending the admitted attempt's SUBMIT to its first complete variant, in ms.
    var firstVariantMilliseconds: Double?
    var variants: Int
    var bytesOut: Int
    var retries: Int
    var failureCode: String?
}

/// `pfctl bench`'s figures: throughput, latency and time-to-first-variant percentiles.
struct BenchReport: Sendable {
    var jobs = 0
    var succeeded = 0
    var failed = 0
    var retries = 0
    var variants = 0
    var bytesOut = 0
    var failures: [String: Int] = [:]
    var elapsed: Duration = .zero
    /// Async submissions: "succeeded" means ACCEPTED, latency runs to ACCEPTED, nothing is processed yet.
    var isAsync = false
    var connections = 1
    private var latencies: [Double] = []
    private var firstVariants: [Double] = []

    init() {}

    mutating func add(_ sample: BenchSample) {
        jobs += 1
        retries += sample.retries
        variants += sample.variants
        bytesOut += sample.bytesOut
        if let code = sample.failureCode {
            failed += 1
            failures[code, default: 0] += 1
        } else {
            succeeded += 1
        }
        if let latency = sample.latencyMilliseconds { latencies.append(latency) }
        if let first = sample.firstVariantMilliseconds { firstVariants.append(first) }
    }

    var seconds: Double { Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 }
    /// Successful jobs (images) per second of wall time.
    var imagesPerSecond: Double { seconds > 0 ? Double(succeeded) / seconds : 0 }

    func latency(_ p: Double) -> Double? { Percentile.of(latencies.sorted(), p) }
    func firstVariant(_ p: Double) -> Double? { Percentile.of(firstVariants.sorted(), p) }

    var text: String {
        func ms(_ value: Double?) -> String { value.map { String(format: "%.1f ms", $0) } ?? "-" }
        if isAsync {
            var lines = [
                String(
                    format: "%d async jobs in %.2f s: %.2f jobs/s admitted; %d accepted, %d refused, %d retries",
                    jobs, seconds, imagesPerSecond, succeeded, failed, retries),
                "SUBMIT to ACCEPTED  p50 \(ms(latency(50)))  p95 \(ms(latency(95)))  p99 \(ms(latency(99)))",
            ]
            for (code, count) in failures.sorted(by: { $0.key < $1.key }) {
                lines.append("  refused: \(code): \(count)")
            }
            return lines.joined(separator: "\n") + "\n"
        }
        var lines = [
            String(
                format: "%d jobs in %.2f s: %.2f images/s; %d succeeded, %d failed, %d retries after rate limiting",
                jobs, seconds, imagesPerSecond, succeeded, failed, retries),
            "latency          p50 \(ms(latency(50)))  p95 \(ms(latency(95)))  p99 \(ms(latency(99)))",
            "first variant    p50 \(ms(firstVariant(50)))  p95 \(ms(firstVariant(95)))  p99 \(ms(firstVariant(99)))",
            "\(variants) variants, \(bytesOut) bytes out" + (connections > 1 ? " over \(connections) connections" : ""),
        ]
        for (code, count) in failures.sorted(by: { $0.key < $1.key }) { lines.append("  failed: \(code): \(count)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `{"jobs","succeeded","failed","retries","seconds","images_per_second","latency_ms":{"p50","p95","p99"},
    /// "first_variant_ms":{"p50","p95","p99"},"variants","bytes_out","failures":{code: count},"mode"}`; with
    /// `--async`, `mode` is `"async"`, `succeeded` counts ACCEPTED jobs and `images_per_second` is admissions/s.
    var json: String {
        func number(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "null" }
        func percentiles(_ of: (Double) -> Double?) -> String {
            JSONOutput.object([("p50", number(of(50))), ("p95", number(of(95))), ("p99", number(of(99)))])
        }
        let failureFields = failures.sorted(by: { $0.key < $1.key }).map { ($0.key, "\($0.value)") }
        return JSONOutput.object([
            ("jobs", "\(jobs)"), ("succeeded", "\(succeeded)"), ("failed", "\(failed)"), ("retries", "\(retries)"),
            ("seconds", number(seconds)), ("images_per_second", number(imagesPerSecond)),
            ("latency_ms", percentiles(latency)), ("first_variant_ms", percentiles(firstVariant)),
            ("variants", "\(variants)"), ("bytes_out", "\(bytesOut)"), ("failures", JSONOutput.object(failureFields)),
            ("mode", JSONOutput.quoted(isAsync ? "async" : "stream")), ("connections", "\(connections)"),
        ])
    }
}
