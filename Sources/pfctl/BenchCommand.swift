import ArgumentParser
import Foundation
import PixelFlowBatch
import PixelFlowClient

/// `pfctl bench`: a bounded load generator over one connection, or several (`--connections`).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Send N jobs, C at a time, cycling through the files; print images/s and latency percentiles.",
        discussion: """
            Sources are read into memory once; variants are received and counted, not written. Latency runs from the \
            admitted attempt's SUBMIT to JOB_DONE; "first variant" to the first complete variant. Rejections with \
            rate_limited or queue_full are retried after retry_after_ms (counted). --json prints one object. \
            With --async, jobs are submitted in async mode and the figures are admissions: jobs/s ACCEPTED (on a \
            coordinator with a job store, durably written) and the latency from SUBMIT to ACCEPTED. \
            --connections N opens N connections and spreads the jobs in flight over them (job i goes to connection \
            i mod N), so one connection's event loop in pfctl is not what limits the rate.
            Exit status: 0 when every job succeeded, 1 otherwise, 2 on a usage error.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var pipelineOptions: PipelineOptions

    @Option(help: "Jobs in total.")
    var jobs: Int = 100

    @Option(help: "Jobs in flight at a time.")
    var concurrency: Int = 8

    @Option(help: "Connections to the coordinator; jobs are spread over them.")
    var connections: Int = 1

    @Option(name: .customLong("max-retries"), help: "Retries per job after rate_limited or queue_full.")
    var maxRetries: Int = 20

    @Flag(name: .customLong("async"), help: "Submit async jobs; measure admissions (ACCEPTED/s), not processing.")
    var asyncMode = false

    @Argument(help: ArgumentHelp("Image files or directories.", valueName: "FILE|DIR"))
    var inputs: [String] = []

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be 1...256") }
        guard maxRetries >= 0 else { throw ValidationError("--max-retries must not be negative") }
        guard !inputs.isEmpty else { throw ValidationError("give at least one FILE or DIR") }
    }

    func run() async throws {
        let pipeline = try loadPipeline(pipelineOptions).wireJSON
        let files: [[UInt8]]
        do {
            files = try BatchInputs.sources(inputs, outputRoot: URL(fileURLWithPath: "/")).map { source in
                guard let data = FileManager.default.contents(atPath: source.path) else {
                    throw BatchUsageError("cannot read \(source.path)")
                }
                return Array(data)
            }
        } catch let error as BatchUsageError {
            throw ValidationError(error.message)
        }
        let retry = RetryPolicy(maxRetries: maxRetries)
        let (jobs, concurrency, asyncMode) = (self.jobs, self.concurrency, self.asyncMode)
        let report = try await connection.withClients(count: connections, command: "bench") { clients in
            await Self.run(
                clients: clients, files: files, pipeline: pipeline, jobs: jobs, concurrency: concurrency, retry: retry,
                asyncMode: asyncMode)
        }
        print(connection.json ? report.json : report.text, terminator: connection.json ? "\n" : "")
        throw ExitCode(report.failed == 0 ? 0 : 1)
    }

    static func run(
        clients: [PixelFlowClient], files: [[UInt8]], pipeline: String, jobs: Int, concurrency: Int,
        retry: RetryPolicy, asyncMode: Bool = false
    ) async -> BenchReport {
        var report = BenchReport()
        report.isAsync = asyncMode
        report.connections = clients.count
        let start = ContinuousClock.now
        await withTaskGroup(of: BenchSample.self) { group in
            var next = 0
            func startNext() {
                guard next < jobs else { return }
                let source = files[next % files.count]
                let client = clients[next % clients.count]
                next += 1
                group.addTask {
                    asyncMode
                        ? await Self.admission(client: client, source: source, pipeline: pipeline, retry: retry)
                        : await Self.job(client: client, source: source, pipeline: pipeline, retry: retry)
                }
            }
            for _ in 0..<concurrency { startNext() }
            while let sample = await group.next() {
                report.add(sample)
                startNext()
            }
        }
        report.elapsed = ContinuousClock.now - start
        return report
    }

    static func job(client: PixelFlowClient, source: [UInt8], pipeline: String, retry: RetryPolicy) async -> BenchSample
    {
        var retries = 0
        while true {
            let start = ContinuousClock.now
            var firstVariant: Double?
            var variants = 0
            var bytesOut = 0
            do {
                for try await event in client.process(source: source, pipeline: pipeline) {
                    switch event {
                    case .variant(let variant):
                        if firstVariant == nil { firstVariant = milliseconds(since: start) }
                        variants += 1
                        bytesOut += variant.bytes.count
                    case .completed:
                        return BenchSample(
                            latencyMilliseconds: milliseconds(since: start), firstVariantMilliseconds: firstVariant,
                            variants: variants, bytesOut: bytesOut, retries: retries, failureCode: nil)
                    case .accepted:
                        break
                    }
                }
                return BenchSample(
                    variants: variants, bytesOut: bytesOut, retries: retries, failureCode: "connection_lost")
            } catch {
                if let delay = retry.delay(after: error, retriesSoFar: retries) {
                    retries += 1
                    try? await Task.sleep(for: delay)
                    continue
                }
                return BenchSample(variants: variants, bytesOut: bytesOut, retries: retries, failureCode: error.name)
            }
        }
    }

    /// One async SUBMIT, timed to its ACCEPTED.
    static func admission(
        client: PixelFlowClient, source: [UInt8], pipeline: String, retry: RetryPolicy
    ) async -> BenchSample {
        var retries = 0
        while true {
            let start = ContinuousClock.now
            do {
                _ = try await client.submit(source: source, pipeline: pipeline)
                return BenchSample(
                    latencyMilliseconds: milliseconds(since: start), variants: 0, bytesOut: 0, retries: retries,
                    failureCode: nil)
            } catch {
                if let delay = retry.delay(after: error, retriesSoFar: retries) {
                    retries += 1
                    try? await Task.sleep(for: delay)
                    continue
                }
                return BenchSample(variants: 0, bytesOut: 0, retries: retries, failureCode: error.name)
            }
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
    }
}
