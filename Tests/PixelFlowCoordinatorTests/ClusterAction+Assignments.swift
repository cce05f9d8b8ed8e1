@testable import PixelFlowCoordinator

/// The ASSIGNs among a transition's actions, in order: what most scheduling tests look at.
func assignments(_ actions: [ClusterAction]) -> [(worker: WorkerID, job: JobID, attempt: UInt16)] {
    actions.compactMap {
        if case .assign(let worker, _, let assign, _) = $0 { return (worker, assign.taskID, assign.attempt) }
        return nil
    }
}
