import Foundation
import PixelFlowImaging
import PixelFlowPipeline
import PixelFlowProtocol

/// A variant ready to send.
struct ProducedVariant: Sendable {
    var id: String
    var format: OutputFormat
    var width: Int
    var height: Int
    var data: [UInt8]
    var milliseconds: Double
}

/// The source of a task, once decoded: its size in pixels (as its header states) and the decode's time.
struct DecodedSource: Sendable {
    var pixels: UInt64
    var milliseconds: Double
}

/// Runs one task's pipeline and reports the decoded source, then each variant the moment it is encoded.
protocol TaskRunner: Sendable {
    func run(
        source: [UInt8], pipeline: Pipeline, onSource: @escaping @Sendable (DecodedSource) -> Void,
        onVariant: @escaping @Sendable (ProducedVariant) async throws -> Void
    ) async throws

    /// Whether its tasks' CPU time is metered (two reads of the process CPU clock per task).
    var isMetered: Bool { get }
}

extension TaskRunner {
    var isMetered: Bool { true }
}

/// The real engine: libvips on the worker's own threads.
struct ImagingTaskRunner: TaskRunner {
    let engine: ImagingEngine

    func run(
        source: [UInt8], pipeline: Pipeline, onSource: @escaping @Sendable (DecodedSource) -> Void,
        onVariant: @escaping @Sendable (ProducedVariant) async throws -> Void
    ) async throws {
        _ = try await engine.process(
            source: source, pipeline: pipeline,
            onDecoded: { header, milliseconds in
                onSource(
                    DecodedSource(pixels: UInt64(header.width) * UInt64(header.height), milliseconds: milliseconds))
            }
        ) { variant in
            try await onVariant(
                ProducedVariant(
                    id: variant.id, format: variant.format, width: variant.width, height: variant.height,
                    data: variant.data, milliseconds: variant.milliseconds))
        }
    }
}

/// Answers every variant with the same bytes, without decoding: measures the coordinator, not libvips.
/// 16 bytes by default; larger payloads are pseudo-random so they do not compress (load tests of big results).
/// It can stand in for real work per task (`SimulatedWork`), to measure scheduling across many workers.
struct NullTaskRunner: TaskRunner {
    static let defaultPayload: [UInt8] = Array("pixelflow-null!\n".utf8)
    let payload: [UInt8]
    let work: SimulatedWork
    /// Its tasks do no image work: metering them would measure the meter, and burden the coordinator benchmark
    /// this runner exists for. They report 0 ms — unless they burn CPU on purpose, which is metered like real work.
    var isMetered: Bool { work.burnsCPU }

    init(variantBytes: Int = 16, work: SimulatedWork = .none) {
        self.work = work
        guard variantBytes != Self.defaultPayload.count else {
            payload = Self.defaultPayload
            return
        }
        var generator = SystemRandomNumberGenerator()
        payload = (0..<variantBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    func run(
        source: [UInt8], pipeline: Pipeline, onSource: @escaping @Sendable (DecodedSource) -> Void,
        onVariant: @escaping @Sendable (ProducedVariant) async throws -> Void
    ) async throws {
        try await work.perform()
        onSource(DecodedSource(pixels: 1, milliseconds: 0))  // the 1 × 1 "image" it answers with, decoded in no time
        for spec in pipeline.variants {
            try await onVariant(
                ProducedVariant(id: spec.id, format: spec.format, width: 1, height: 1, data: payload, milliseconds: 0))
        }
    }
}

extension ImagingError {
    /// The wire code, and whether retrying elsewhere could help.
    var wire: (code: ErrorCode, permanent: Bool) {
        switch code {
        case .invalidPipeline: (.invalidPipeline, true)
        case .undecodableImage: (.undecodableImage, true)
        case .unsupportedFormat: (.unsupportedFormat, true)
        case .sourceTooLarge: (.sourceTooLarge, true)
        case .imageTooLarge, .tooManyFrames: (.imageTooLarge, true)
        case .timeout: (.timeout, false)
        case .cancelled: (.cancelled, true)
        case .internal: (.internal, false)
        }
    }
}
