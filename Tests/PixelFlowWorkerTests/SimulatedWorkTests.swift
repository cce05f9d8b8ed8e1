import Foundation
import PixelFlowLocking
import PixelFlowPipeline
import Testing

@testable import PixelFlowWorker

/// The null engine's stand-in for real work: a sleep that costs no CPU, a burn that costs exactly its CPU.
@Suite struct SimulatedWorkTests {
    static func processCPU() -> Duration {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return .seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + .microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
    }

    @Test func sleepingTakesItsTimeAndEndsEarlyWhenCancelled() async throws {
        let wall = ContinuousClock.now
        try await SimulatedWork.sleep(.milliseconds(120)).perform()
        #expect(ContinuousClock.now - wall >= .milliseconds(120))
        let cancelled = Task { try await SimulatedWork.sleep(.seconds(30)).perform() }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
    }

    @Test func burningUsesTheCPU() async throws {
        let (cpu, wall) = (Self.processCPU(), ContinuousClock.now)
        try await SimulatedWork.burnCPU(.milliseconds(80)).perform()
        // 80 ms of one thread's CPU cannot take less wall time; other tests' CPU could fill the process count alone.
        #expect(ContinuousClock.now - wall >= .milliseconds(80))
        #expect(Self.processCPU() - cpu >= .milliseconds(70))  // getrusage ticks are coarser than the thread clock
    }

    @Test func aCancelledBurnStops() async throws {
        let wall = ContinuousClock.now
        let task = Task { try await SimulatedWork.burnCPU(.seconds(30)).perform() }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - wall < .seconds(10))
    }

    @Test func theNullRunnerWaitsBeforeItsVariants() async throws {
        let runner = NullTaskRunner(work: .sleep(.milliseconds(100)))
        let pipeline = try PipelineDecoder.decode(
            wire: Data(#"[{"id":"t","action":"resize","width":8,"format":"webp"}]"#.utf8))
        let start = ContinuousClock.now
        let elapsed = Locked<Duration?>(nil)
        try await runner.run(source: [1, 2, 3], pipeline: pipeline, onSource: { _ in }) { _ in
            elapsed.withLock { $0 = ContinuousClock.now - start }
        }
        #expect(try #require(elapsed.withLock { $0 }) >= .milliseconds(100))
        #expect(!runner.isMetered)
        #expect(NullTaskRunner(work: .burnCPU(.milliseconds(1))).isMetered)
    }
}
