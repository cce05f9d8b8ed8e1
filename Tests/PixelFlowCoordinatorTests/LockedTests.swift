import Foundation
import PixelFlowLocking
import Testing

@Suite struct LockedTests {
    struct Refused: Error, Equatable {}

    @Test func criticalSectionsOnManyThreadsDoNotInterleave() async {
        let counter = Locked(0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<10_000 {
                        counter.withLock { value in
                            let read = value
                            value = read + 1
                        }
                    }
                }
            }
        }
        #expect(counter.withLock { $0 } == 40_000)
    }

    @Test func aTypedErrorLeavesTheLockFreeAndTheValueAsTheBodyLeftIt() {
        let names = Locked<[String]>([])
        #expect(throws: Refused.self) {
            try names.withLock { (names: inout [String]) throws(Refused) in
                names.append("kept")
                throw Refused()
            }
        }
        #expect(names.withLock { $0 } == ["kept"])
    }
}
