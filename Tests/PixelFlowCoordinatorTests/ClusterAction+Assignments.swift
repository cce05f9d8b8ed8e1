import PixelFlowProtocol

@testable import PixelFlowCoordinator

/// The ASSIGNs among a transition's actions, in order: what most scheduling tests look at.
func assignments(_ actions: [ClusterAction]) -> [(worker: WorkerID, job: JobID, attempt: UInt16)] {
    actions.compactMap {
        if case .assign(let worker, _, let assign, _, _) = $0 { return (worker, assign.taskID, assign.attempt) }
        return nil
    }
}

extension VariantHeader {
    /// A variant result of `size` bytes whose other fields do not matter to the test.
    static func test(job: JobID, attempt: UInt16, variantID: String, size: UInt64 = 0) -> VariantHeader {
        VariantHeader(
            jobID: job, attempt: attempt, variantID: variantID, format: "webp", width: 1, height: 1, size: size,
            elapsedMilliseconds: 1)
    }
}
