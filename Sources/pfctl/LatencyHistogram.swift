/// A Prometheus histogram read from `/metrics` text (its cumulative `_bucket` counts by upper bound), and the
/// quantiles of what happened between two readings — what `histogram_quantile(q, rate(...))` computes.
struct LatencyHistogram: Equatable {
    /// Cumulative counts by bucket upper bound (`le`), ascending; +Inf last.
    var buckets: [(bound: Double, count: Double)]

    static func == (a: Self, b: Self) -> Bool {
        a.buckets.elementsEqual(b.buckets) { $0.bound == $1.bound && $0.count == $1.count }
    }

    /// The unlabelled-apart-from-`le` histogram `name` in Prometheus text; nil when the text has none.
    init?(_ name: String, in text: String) {
        var found: [(Double, Double)] = []
        let prefix = name + "_bucket{"
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            guard let open = line.range(of: #"le=""#), let close = line[open.upperBound...].firstIndex(of: "\""),
                let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            let label = line[open.upperBound..<close]
            guard let bound = label == "+Inf" ? Double.infinity : Double(label) else { continue }
            found.append((bound, value))
        }
        guard !found.isEmpty else { return nil }
        buckets = found.sorted { $0.0 < $1.0 }.map { (bound: $0.0, count: $0.1) }
    }

    init(buckets: [(bound: Double, count: Double)]) { self.buckets = buckets }

    /// What was observed since `earlier` (same buckets); a counter reset (a restarted coordinator) counts from 0.
    func since(_ earlier: LatencyHistogram?) -> LatencyHistogram {
        guard let earlier, earlier.buckets.map(\.bound) == buckets.map(\.bound),
            zip(buckets, earlier.buckets).allSatisfy({ $0.count >= $1.count })
        else { return self }
        return LatencyHistogram(
            buckets: zip(buckets, earlier.buckets).map { (bound: $0.bound, count: $0.count - $1.count) })
    }

    var count: Double { buckets.last?.count ?? 0 }

    /// The `q` quantile (0…1), interpolated linearly inside its bucket as Prometheus does; nil with no
    /// observations. A quantile in the +Inf bucket is the last finite bound.
    func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = q * count
        var lowerBound = 0.0
        var lowerCount = 0.0
        for bucket in buckets {
            if bucket.count >= rank {
                guard bucket.bound.isFinite else { return lowerBound }
                let inBucket = bucket.count - lowerCount
                guard inBucket > 0 else { return bucket.bound }
                return lowerBound + (bucket.bound - lowerBound) * (rank - lowerCount) / inBucket
            }
            lowerBound = bucket.bound.isFinite ? bucket.bound : lowerBound
            lowerCount = bucket.count
        }
        return lowerBound
    }
}
