import PixelFlowLocking
import Testing

@testable import PixelFlowWorker

/// The process CPU clock shared out among the tasks running at each moment.
@Suite struct TaskCPUMeterTests {
    /// A CPU clock the test moves by hand, in milliseconds.
    final class FakeCPUClock: Sendable {
        let milliseconds = Locked<UInt64>(0)
        func advance(_ amount: UInt64) { milliseconds.withLock { $0 += amount } }
        var nanoseconds: UInt64 { milliseconds.withLock { $0 } * 1_000_000 }
    }

    @Test func timeIsSharedEvenlyAmongTheTasksRunningThen() {
        let clock = FakeCPUClock()
        let meter = TaskCPUMeter(processCPUNanoseconds: { clock.nanoseconds })
        clock.advance(50)  // before any task: nobody's
        let first = meter.start()
        clock.advance(100)  // first alone: 100
        let second = meter.start()
        clock.advance(200)  // both: 100 each
        #expect(meter.stop(first) == 200)
        clock.advance(30)  // second alone: 30
        #expect(meter.stop(second) == 130)
        clock.advance(1_000)  // idle
        let third = meter.start()
        #expect(meter.stop(third) == 0)
    }

    @Test func theRealProcessClockMoves() {
        let before = TaskCPUMeter.processCPUTime()
        var sum = 0.0
        for index in 0..<2_000_000 { sum += Double(index).squareRoot() }
        #expect(sum > 0)
        #expect(TaskCPUMeter.processCPUTime() > before)
    }
}
