import NIOCore
import Testing

@testable import PixelFlowCoordinator

@Suite("Token bucket")
struct TokenBucketTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("rate 5/s, burst 10: 10 at once, then one every 200 ms")
    func burstThenRate() {
        var bucket = TokenBucket(rate: 5, burst: 10, now: start)
        let decisions = (0..<50).map { _ in bucket.take(now: start) }
        #expect(decisions.prefix(10).allSatisfy { $0 == .admitted })
        #expect(decisions.dropFirst(10).allSatisfy { $0 == .rejected(retryAfter: .milliseconds(200)) })
        #expect(bucket.take(now: start + .milliseconds(199)) != .admitted)
        #expect(bucket.take(now: start + .milliseconds(200)) == .admitted)
        #expect(bucket.take(now: start + .milliseconds(200)) == .rejected(retryAfter: .milliseconds(200)))
    }

    @Test("retry_after shrinks as tokens refill, and waiting that long is enough")
    func retryAfterIsHonest() throws {
        var bucket = TokenBucket(rate: 4, burst: 1, now: start)
        #expect(bucket.take(now: start) == .admitted)
        guard case .rejected(let wait) = bucket.take(now: start + .milliseconds(100)) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(wait == .milliseconds(150))
        #expect(bucket.take(now: start + .milliseconds(100) + wait) == .admitted)
    }

    @Test("an idle bucket refills to its burst, never beyond")
    func refillCapped() {
        var bucket = TokenBucket(rate: 100, burst: 3, now: start)
        for _ in 0..<3 { _ = bucket.take(now: start) }
        let later = start + .seconds(3600)
        #expect((0..<3).map { _ in bucket.take(now: later) }.allSatisfy { $0 == .admitted })
        #expect(bucket.take(now: later) != .admitted)
    }
}

@Suite("Fair queue")
struct FairQueueTests {
    @Test("tenants are served in turn, whatever their queue lengths")
    func roundRobin() {
        var queue = FairQueue<String>()
        for index in 0..<6 { queue.enqueue("a\(index)", tenant: "a", priority: 128) }
        queue.enqueue("b0", tenant: "b", priority: 128)
        queue.enqueue("b1", tenant: "b", priority: 128)
        var served: [String] = []
        while let next = queue.dequeue() { served.append(next.item) }
        #expect(served == ["a0", "b0", "a1", "b1", "a2", "a3", "a4", "a5"])
        #expect(queue.isEmpty && queue.count == 0)
    }

    @Test("higher priority first within a tenant; a requeued item goes ahead of its peers")
    func priorities() {
        var queue = FairQueue<Int>()
        queue.enqueue(1, tenant: "t", priority: 128)
        queue.enqueue(2, tenant: "t", priority: 200)
        queue.enqueue(3, tenant: "t", priority: 128)
        queue.requeueAtFront(4, tenant: "t", priority: 128)
        var served: [Int] = []
        while let next = queue.dequeue() { served.append(next.item) }
        #expect(served == [2, 4, 1, 3])
    }

    @Test("removing items keeps counts and rotation right")
    func removal() {
        var queue = FairQueue<Int>()
        queue.enqueue(1, tenant: "a", priority: 1)
        queue.enqueue(2, tenant: "b", priority: 1)
        queue.enqueue(3, tenant: "a", priority: 1)
        #expect(queue.removeAll { $0 == 2 } == [2])
        #expect(queue.count == 2 && queue.count(for: "b") == 0)
        #expect(queue.dequeue()?.item == 1)
        #expect(queue.dequeue()?.item == 3)
        #expect(queue.dequeue() == nil)
    }
}
