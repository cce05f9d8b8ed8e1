import Foundation
import NIOCore
import PixelFlowCompression
import PixelFlowImaging
import PixelFlowLocking
import PixelFlowObjects
import PixelFlowPipeline
import PixelFlowProtocol

/// Where a task's source comes from and where its variants go.
enum TaskData: Sendable {
    /// ASSIGN: the source came as CHUNKs; each variant goes back as VARIANT + CHUNKs.
    case inline(source: [UInt8])
    /// ASSIGN_OBJECT: the source is read from a presigned URL, each variant PUT to its own (by variant id), then
    /// announced with VARIANT_STORED.
    case objects(sourceURL: String, putURLs: [String: String], transfer: PresignedTransfer)
}

/// One assigned task: decode the pipeline, run it, stream each variant as VARIANT + CHUNKs (or store it and send
/// VARIANT_STORED), end with TASK_DONE or TASK_FAILED. Stops early on CANCEL_TASK.
struct TaskExecution: Sendable {
    let stream: UInt32
    let assign: Assign
    let data: TaskData
    let runner: any TaskRunner
    let outbound: NIOAsyncChannelOutboundWriter<WireElement>
    let chunkSize: Int
    let maxVariantBytes: UInt64
    /// Told when the task ends, before its outcome is written: the coordinator may reuse the slot at once.
    let state: WorkerSessionState
    /// Protocol v2 and later: the outcome carries the task's CPU time and source pixels, and TASK_DONE the
    /// source's decode time (the worker's REGISTER sets the `timings` bit).
    let reportsUsage: Bool
    var cpuMeter = TaskCPUMeter.shared

    struct Failure: Error {
        var code: ErrorCode
        var permanent: Bool
        var message: String
    }

    /// Why a task is stopped from outside: CANCEL_TASK, or its ASSIGN time limit passed.
    enum Stop: Sendable {
        case cancelled
        case timeLimit
    }

    func run(stop: TaskStopSignal) async {
        let start = ContinuousClock.now
        let cpu = runner.isMetered ? cpuMeter.start() : nil
        let progress = TaskProgress()
        // The work runs as a task of its own so a stop can cancel it alone; it is cancelled with this one too.
        let work = Task { await execute(progress) }
        stop.watch(work)
        let result = await withTaskCancellationHandler {
            await work.value
        } onCancel: {
            work.cancel()
        }
        // A task that got all its variants out succeeded, whatever came too late to stop it.
        var outcome = result
        if case .failure = result, let reason = stop.reason {
            outcome = .failure(Failure(stoppedBy: reason, limit: assign.timeLimitMilliseconds))
        }
        let elapsed = UInt32(
            clamping: (ContinuousClock.now - start).components.seconds * 1000 + (ContinuousClock.now - start).components
                .attoseconds / 1_000_000_000_000_000)
        let cpuMilliseconds = cpu.map(cpuMeter.stop) ?? 0
        let usage =
            reportsUsage ? TaskUsage(cpuMilliseconds: cpuMilliseconds, sourcePixels: progress.sourcePixels) : nil
        let message: Message
        switch outcome {
        case .success(let variants):
            message = .taskDone(
                TaskDone(
                    taskID: assign.taskID, attempt: assign.attempt, variants: UInt16(clamping: variants),
                    elapsedMilliseconds: elapsed, usage: usage,
                    decodeMilliseconds: reportsUsage ? progress.decodeMilliseconds : nil))
        case .failure(let failure):
            message = .taskFailed(
                TaskFailed(
                    taskID: assign.taskID, attempt: assign.attempt, code: failure.code, permanent: failure.permanent,
                    message: failure.message, usage: usage))
        }
        // The slot is free before the outcome leaves, so an ASSIGN answering it never finds the worker full.
        state.release(stream: stream)
        // The last variant goes out with the outcome: one write instead of two, and no later than it would have.
        try? await outbound.write(contentsOf: progress.takeHeld() + [.frame(Frame(stream: stream, message))])
        state.finish(stream: stream)
    }

    private func execute(_ progress: TaskProgress) async -> Result<Int, Failure> {
        let pipeline: Pipeline
        do {
            pipeline = try PipelineCache.shared.decode(wire: Data(assign.pipeline.readableBytesView))
        } catch {
            return .failure(Failure(code: .invalidPipeline, permanent: true, message: error.description))
        }
        let total = pipeline.variants.count
        do {
            let source = try await readSource()
            try await runner.run(source: source, pipeline: pipeline, onSource: progress.sourceDecoded) { variant in
                let frames = try await frames(for: variant)
                if progress.count + 1 == total {
                    progress.hold(frames)
                } else {
                    try await outbound.write(contentsOf: frames)
                }
                progress.increment()
            }
            return .success(progress.count)
        } catch let error as ImagingError {
            let wire = error.wire
            return .failure(Failure(code: wire.code, permanent: wire.permanent, message: error.message))
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(Failure(code: .internal, permanent: false, message: "\(error)"))
        }
    }

    private func readSource() async throws -> [UInt8] {
        switch data {
        case .inline(let source):
            return source
        case .objects(let url, _, let transfer):
            do throws(ObjectStoreError) {
                return Array(try await transfer.get(url, size: Int(clamping: assign.sourceSize)).readableBytesView)
            } catch {
                throw Failure(
                    code: .storageError, permanent: false,
                    message: "the source could not be read from the object store: \(error)")
            }
        }
    }

    /// What announces a variant: VARIANT and its bytes in chunks, or, once PUT to its URL, VARIANT_STORED.
    private func frames(for variant: ProducedVariant) async throws -> [WireElement] {
        guard UInt64(variant.data.count) <= maxVariantBytes else {
            throw Failure(
                code: .internal, permanent: true,
                message: "variant '\(variant.id)' is \(variant.data.count) bytes, over the limit of \(maxVariantBytes)")
        }
        let header = VariantHeader(
            jobID: assign.taskID, attempt: assign.attempt, variantID: variant.id, format: variant.format.rawValue,
            width: UInt32(clamping: variant.width), height: UInt32(clamping: variant.height),
            size: UInt64(variant.data.count),
            elapsedMilliseconds: UInt32(clamping: Int(variant.milliseconds.rounded())))
        switch data {
        case .inline:
            return chunkedFrames(header, payload: variant.data)
        case .objects(_, let putURLs, let transfer):
            guard let url = putURLs[variant.id] else {
                throw Failure(
                    code: .invalidPipeline, permanent: true,
                    message: "ASSIGN_OBJECT names no output URL for variant '\(variant.id)'")
            }
            do throws(ObjectStoreError) {
                try await transfer.put(ByteBuffer(bytes: variant.data), to: url, contentType: variant.format.mediaType)
            } catch {
                throw Failure(
                    code: .storageError, permanent: false,
                    message: "variant '\(variant.id)' could not be stored in the object store: \(error)")
            }
            return [.frame(Frame(stream: stream, .variantStored(VariantStored(header))))]
        }
    }

    /// VARIANT, then the bytes in chunks, compressed only where it pays; written together so they stay in order.
    private func chunkedFrames(_ header: VariantHeader, payload: [UInt8]) -> [WireElement] {
        var frames: [WireElement] = [.frame(Frame(stream: stream, .variant(header)))]
        var compressor = PayloadCompressor()
        let bytes = ByteBuffer(bytes: payload)
        var offset = 0
        repeat {
            let length = min(chunkSize, bytes.readableBytes - offset)
            let piece = bytes.getSlice(at: offset, length: length) ?? ByteBuffer()  // always in range
            offset += length
            frames.append(
                .frame(
                    Frame(
                        stream: stream,
                        .chunk(Chunk.encode(piece, isLast: offset == bytes.readableBytes, compressor: &compressor)))))
        } while offset < bytes.readableBytes
        return frames
    }
}

extension TaskExecution.Failure {
    /// What a stopped task reports: its work failed, and the stop is why.
    init(stoppedBy stop: TaskExecution.Stop, limit: UInt32) {
        switch stop {
        case .cancelled:
            self.init(code: .cancelled, permanent: false, message: "cancelled by the coordinator")
        case .timeLimit:
            self.init(
                code: .timeout, permanent: false, message: "the task took longer than its time limit of \(limit) ms")
        }
    }
}

/// Variants produced so far, and the last one's frames, held back to travel with TASK_DONE; the decoded source.
final class TaskProgress: Sendable {
    private struct State {
        var count = 0
        var held: [WireElement] = []
        var source = DecodedSource(pixels: 0, milliseconds: 0)
    }

    private let state = Locked(State())

    var count: Int { state.withLock { $0.count } }
    var sourcePixels: UInt64 { state.withLock { $0.source.pixels } }
    var decodeMilliseconds: UInt32 { state.withLock { UInt32(clamping: Int($0.source.milliseconds.rounded())) } }
    func sourceDecoded(_ source: DecodedSource) { state.withLock { $0.source = source } }
    func increment() { state.withLock { $0.count += 1 } }
    func hold(_ frames: [WireElement]) { state.withLock { $0.held = frames } }
    func takeHeld() -> [WireElement] {
        state.withLock { state in
            defer { state.held = [] }; return state.held
        }
    }
}
