import PixelFlowLocking
import Testing

@testable import PixelFlowCoordinator

/// The FETCH byte budget: waits in arrival order, never overdraws, and lets an oversized request run alone.
@Suite struct ByteBudgetTests {
    /// The order waiters were served in.
    final class Order: Sendable {
        private let names = Locked<[String]>([])
        func append(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    @Test func waitersGetTheirBytesInOrderAsTheyAreReleased() async {
        let budget = ByteBudget(capacity: 100)
        let first = await budget.acquire(70)
        #expect(first == 70 && budget.available == 30)
        let order = Order()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let held = await budget.acquire(50)
                order.append("fifty")
                budget.release(held)
            }
            // Give the first waiter time to queue: a later, smaller request must not overtake it.
            try? await Task.sleep(for: .milliseconds(50))
            group.addTask {
                let held = await budget.acquire(20)
                order.append("twenty")
                budget.release(held)
            }
            try? await Task.sleep(for: .milliseconds(50))
            #expect(order.all.isEmpty, "a waiter got bytes that were not free")
            budget.release(first)
        }
        #expect(order.all == ["fifty", "twenty"])
        #expect(budget.available == 100)
    }

    @Test func aRequestLargerThanTheBudgetTakesAllOfIt() async {
        let budget = ByteBudget(capacity: 10)
        let held = await budget.acquire(1_000)
        #expect(held == 10 && budget.available == 0)
        budget.release(held)
        #expect(budget.available == 10)
    }
}
