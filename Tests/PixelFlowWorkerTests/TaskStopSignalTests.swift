import Testing

@testable import PixelFlowWorker

/// How CANCEL_TASK and the time limit reach a running task's work.
@Suite struct TaskStopSignalTests {
    /// Work that ends only when cancelled, and says whether it was.
    static func workUntilCancelled() -> Task<Result<Int, TaskExecution.Failure>, Never> {
        Task {
            try? await Task.sleep(for: .seconds(30))
            return Task.isCancelled
                ? .failure(TaskExecution.Failure(code: .cancelled, permanent: true, message: "cancelled"))
                : .success(0)
        }
    }

    @Test("a stop cancels the work it watches, and the first reason is the one kept")
    func stopCancelsTheWork() async {
        let signal = TaskStopSignal()
        let work = Self.workUntilCancelled()
        signal.watch(work)
        #expect(signal.reason == nil)
        signal.stop(.timeLimit)
        signal.stop(.cancelled)
        guard case .failure = await work.value else {
            Issue.record("the work was not cancelled")
            return
        }
        #expect(signal.reason == .timeLimit)
    }

    @Test("a stop that comes before the work starts cancels it as soon as it is watched")
    func stopBeforeTheWork() async {
        let signal = TaskStopSignal()
        signal.stop(.cancelled)
        let work = Self.workUntilCancelled()
        signal.watch(work)
        guard case .failure = await work.value else {
            Issue.record("the work was not cancelled")
            return
        }
        #expect(signal.reason == .cancelled)
    }
}
