import Foundation

/// Dedicated threads for blocking libvips calls, so they never occupy the Swift cooperative pool.
///
/// A fixed number of `Thread`s take closures from one FIFO queue; callers hand results back through a
/// continuation (the engine uses an `AsyncThrowingStream`'s). The threads exit when the pool is released,
/// running `onExit` last.
final class VipsThreadPool: Sendable {
    private final class Queue: @unchecked Sendable {
        private let condition = NSCondition()
        private var work: [@Sendable () -> Void] = []
        private var closed = false

        func push(_ item: @escaping @Sendable () -> Void) {
            condition.lock()
            work.append(item)
            condition.signal()
            condition.unlock()
        }

        /// Blocks until there is work; `nil` once closed and drained.
        func pop() -> (@Sendable () -> Void)? {
            condition.lock()
            defer { condition.unlock() }
            while work.isEmpty && !closed { condition.wait() }
            return work.isEmpty ? nil : work.removeFirst()
        }

        func close() {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }
    }

    private let queue = Queue()
    let threadCount: Int

    init(threads: Int, name: String = "pixelflow-vips", onExit: @escaping @Sendable () -> Void = {}) {
        threadCount = max(1, threads)
        for index in 0..<threadCount {
            let queue = self.queue
            let thread = Thread {
                while let item = queue.pop() { item() }
                onExit()
            }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    deinit {
        queue.close()
    }

    /// Runs `body` on a pool thread without waiting for it.
    func submit(_ body: @escaping @Sendable () -> Void) {
        queue.push(body)
    }
}
