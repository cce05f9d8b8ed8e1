import Foundation

/// The figures of one measurement, passed from the child process as one JSON line.
struct ImagingMeasurement: Codable {
    let images: Int
    let seconds: Double
    let cpuMilliseconds: Double
    let peakRSSKiB: Int
    let latenciesMs: [Double]
    let firstVariantMs: [Double]
    let bytesPerVariant: [String: Int]

    var imagesPerSecond: Double { Double(images) / seconds }
    var cpuMsPerImage: Double { cpuMilliseconds / Double(images) }

    init(
        images: Int, seconds: Double, cpuMilliseconds: Double, peakRSSKiB: Int, latenciesMs: [Double],
        firstVariantMs: [Double], bytesPerVariant: [String: Int]
    ) {
        self.images = images
        self.seconds = seconds
        self.cpuMilliseconds = cpuMilliseconds
        self.peakRSSKiB = peakRSSKiB
        self.latenciesMs = latenciesMs
        self.firstVariantMs = firstVariantMs
        self.bytesPerVariant = bytesPerVariant
    }

    init?(decoding data: Data) {
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
            let decoded = try? JSONDecoder().decode(ImagingMeasurement.self, from: Data(line.utf8))
        else { return nil }
        self = decoded
    }

    func encoded() -> String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self)
    }

    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
    }
}

/// One table row: the median run of one configuration.
struct ImagingBenchRow {
    let pipeline: String
    let path: String
    let threads: Int
    let runs: [ImagingMeasurement]

    var median: ImagingMeasurement? {
        runs.sorted { $0.imagesPerSecond < $1.imagesPerSecond }.dropFirst(runs.count / 2).first
    }

    static func table(_ rows: [ImagingBenchRow]) -> String {
        var lines = [
            "| pipeline | path | threads | images/s (median) | all runs | CPU-ms/image | p50 / p95 / p99 ms | first variant p50 ms | peak RSS MiB | mean bytes per variant |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in rows {
            guard let m = row.median else { continue }
            let all = row.runs.map { String(format: "%.2f", $0.imagesPerSecond) }.joined(separator: ", ")
            let bytes = m.bytesPerVariant.sorted { $0.key > $1.key }.map { "\($0.key) \($0.value / 1024) KiB" }.joined(
                separator: ", ")
            lines.append(
                String(
                    format: "| %@ | %@ | %d | %.2f | %@ | %.0f | %.0f / %.0f / %.0f | %.0f | %.0f | %@ |",
                    row.pipeline, row.path, row.threads, m.imagesPerSecond, all, m.cpuMsPerImage,
                    ImagingMeasurement.percentile(m.latenciesMs, 0.5),
                    ImagingMeasurement.percentile(m.latenciesMs, 0.95),
                    ImagingMeasurement.percentile(m.latenciesMs, 0.99),
                    ImagingMeasurement.percentile(m.firstVariantMs, 0.5),
                    Double(m.peakRSSKiB) / 1024, bytes
                ))
        }
        var ratios: [String] = []
        for engine in rows where engine.path == "engine" {
            if let naive = rows.first(where: {
                $0.path == "naive" && $0.pipeline == engine.pipeline && $0.threads == engine.threads
            }),
                let a = engine.median, let b = naive.median
            {
                ratios.append(
                    String(
                        format: "%@ t=%d: engine/naive = %.2f× images/s, %.2f× CPU-ms/image",
                        engine.pipeline, engine.threads, a.imagesPerSecond / b.imagesPerSecond,
                        a.cpuMsPerImage / b.cpuMsPerImage))
            }
        }
        return lines.joined(separator: "\n") + "\n\n" + ratios.joined(separator: "\n")
    }
}
