import Testing

@testable import pfctl

@Suite("pfctl top: latency percentiles from /metrics histograms")
struct LatencyHistogramTests {
    static let text = """
        # TYPE pixelflow_job_duration_seconds histogram
        pixelflow_job_duration_seconds_bucket{le="0.1"} 10
        pixelflow_job_duration_seconds_bucket{le="0.5"} 60
        pixelflow_job_duration_seconds_bucket{le="1.0"} 90
        pixelflow_job_duration_seconds_bucket{le="+Inf"} 100
        pixelflow_job_duration_seconds_sum 42.0
        pixelflow_job_duration_seconds_count 100
        pixelflow_other_bucket{le="1.0"} 7
        """

    @Test("buckets are read by their bounds, other families ignored")
    func parse() throws {
        let histogram = try #require(LatencyHistogram("pixelflow_job_duration_seconds", in: Self.text))
        #expect(histogram.buckets.map(\.bound) == [0.1, 0.5, 1.0, .infinity])
        #expect(histogram.count == 100)
        #expect(LatencyHistogram("pixelflow_missing", in: Self.text) == nil)
    }

    @Test("quantiles interpolate inside their bucket as histogram_quantile does; +Inf gives the last bound")
    func quantiles() throws {
        let histogram = try #require(LatencyHistogram("pixelflow_job_duration_seconds", in: Self.text))
        #expect(histogram.quantile(0.05) == 0.05)  // 5 of the first 10, between 0 and 0.1
        #expect(abs(histogram.quantile(0.5)! - 0.42) < 1e-9)  // rank 50: 40 of 50 into (0.1, 0.5]
        #expect(abs(histogram.quantile(0.9)! - 1.0) < 1e-9)
        #expect(histogram.quantile(0.99) == 1.0, "in +Inf: the last finite bound")
        #expect(LatencyHistogram(buckets: [(1, 0), (.infinity, 0)]).quantile(0.5) == nil)
    }

    @Test("the window between two readings is their difference; a reset counts from zero")
    func window() throws {
        let earlier = LatencyHistogram(buckets: [(0.1, 5), (0.5, 20), (1, 30), (.infinity, 30)])
        let later = try #require(LatencyHistogram("pixelflow_job_duration_seconds", in: Self.text))
        let window = later.since(earlier)
        #expect(window.buckets.map(\.count) == [5, 40, 60, 70])
        let restarted = LatencyHistogram(buckets: [(0.1, 1), (0.5, 1), (1, 1), (.infinity, 1)])
        #expect(restarted.since(later) == restarted)
    }
}
