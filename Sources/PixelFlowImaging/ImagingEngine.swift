import CVipsShim
import Foundation
import PixelFlowPipeline

/// Turns one source image and a pipeline into encoded variants with libvips.
///
/// Jobs run on the engine's own threads (`threads` of them, one job per thread at a time, libvips
/// concurrency 1 inside each job). Each variant is delivered as soon as it is encoded.
public final class ImagingEngine: Sendable {
    public let limits: ImagingLimits
    public let threads: Int
    private let pool: VipsThreadPool
    private let budget: DecodeBudget

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, limits: ImagingLimits = .default) {
        VipsRuntime.start()
        self.limits = limits
        self.threads = max(1, threads)
        self.budget = DecodeBudget(capacity: limits.decodeBudgetBytes)
        // libvips keeps per-thread buffers; a thread that leaves must hand them back.
        self.pool = VipsThreadPool(threads: self.threads, onExit: { vips_thread_shutdown() })
    }

    /// The job's events as they happen: `decoded`, then each variant. The stream ends with an
    /// ``ImagingError`` when the job fails; cancelling the consuming task stops the job.
    public func events(source: [UInt8], pipeline: Pipeline) -> AsyncThrowingStream<JobEvent, any Error> {
        AsyncThrowingStream(bufferingPolicy: .unbounded) { continuation in
            let control = JobControl(timeout: limits.jobTimeout)
            continuation.onTermination = { termination in
                if case .cancelled = termination { control.stop(.cancelled) }
            }
            let limits = self.limits
            let budget = self.budget
            pool.submit {
                let result = JobRunner.run(
                    source: source, pipeline: pipeline, limits: limits, budget: budget, control: control
                ) { event in
                    continuation.yield(event)
                }
                switch result {
                case .success: continuation.finish()
                case .failure(let error): continuation.finish(throwing: error)
                }
            }
        }
    }

    /// Runs the job, hands each variant to `onVariant` as soon as it is encoded, and returns the report.
    /// Throws ``ImagingError`` for the job's failures and rethrows what `onVariant` throws.
    public func process(
        source: [UInt8], pipeline: Pipeline,
        onVariant: @Sendable (EncodedVariant) async throws -> Void = { _ in }
    ) async throws -> JobReport {
        try await process(source: source, pipeline: pipeline, onDecoded: { _, _ in }, onVariant: onVariant)
    }

    /// The same, and `onDecoded` hears the source's header and the decode's time in ms as soon as the source is
    /// decoded, before any variant (and even if the job fails later).
    public func process(
        source: [UInt8], pipeline: Pipeline, onDecoded: @Sendable (SourceHeader, _ milliseconds: Double) -> Void,
        onVariant: @Sendable (EncodedVariant) async throws -> Void
    ) async throws -> JobReport {
        let start = ContinuousClock.now
        var decoded: (SourceHeader, Int, Int, Double)?
        var variants: [VariantReport] = []
        for try await event in events(source: source, pipeline: pipeline) {
            switch event {
            case .decoded(let header, let width, let height, let milliseconds):
                decoded = (header, width, height, milliseconds)
                onDecoded(header, milliseconds)
            case .variant(let variant):
                variants.append(variant.report)
                try await onVariant(variant)
            }
        }
        // A cancelled consumer sees the stream end early rather than throw.
        if Task.isCancelled { throw ImagingError(.cancelled, "the job was cancelled") }
        guard let (header, width, height, decodeMilliseconds) = decoded, variants.count == pipeline.variants.count
        else {
            throw ImagingError(.internal, "the job ended before delivering every variant")
        }
        return JobReport(
            source: header, decodedWidth: width, decodedHeight: height, decodeMilliseconds: decodeMilliseconds,
            variants: variants, totalMilliseconds: (ContinuousClock.now - start).milliseconds)
    }

    public func process(
        source: Data, pipeline: Pipeline,
        onVariant: @Sendable (EncodedVariant) async throws -> Void = { _ in }
    ) async throws -> JobReport {
        try await process(source: [UInt8](source), pipeline: pipeline, onVariant: onVariant)
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
