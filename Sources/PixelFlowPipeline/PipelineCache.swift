import Foundation
import PixelFlowLocking

/// Recently decoded wire pipelines. Jobs of one workload repeat the same few pipelines, and decoding JSON is
/// most of what a coordinator or null worker spends per job, so each distinct pipeline is decoded once.
public final class PipelineCache: Sendable {
    private struct Entries {
        var results: [Data: Result<Pipeline, PipelineError>] = [:]
        var order: [Data] = []
    }

    public let capacity: Int
    private let entries = Locked(Entries())

    /// The process-wide cache used by the coordinator's validation and the worker.
    public static let shared = PipelineCache(capacity: 256)

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// `PipelineDecoder.decode(wire:)`, remembered: failures too, so a client repeating a bad pipeline costs nothing.
    public func decode(wire json: Data) throws(PipelineError) -> Pipeline {
        if let known = entries.withLock({ $0.results[json] }) { return try known.get() }
        let result = Result { () throws(PipelineError) in try PipelineDecoder.decode(wire: json) }
        entries.withLock { entries in
            guard entries.results.updateValue(result, forKey: json) == nil else { return }
            entries.order.append(json)
            if entries.order.count > capacity { entries.results[entries.order.removeFirst()] = nil }
        }
        return try result.get()
    }
}
