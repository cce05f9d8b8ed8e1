import PixelFlowLocking

/// Names being worked on by one request at a time (a draft's id, an idempotency key): a second request for the
/// same name is told so instead of racing the first.
final class ClaimSet: Sendable {
    private let claimed = Locked<Set<String>>([])

    /// True if the name was free and is now claimed.
    func claim(_ name: String) -> Bool {
        claimed.withLock { $0.insert(name).inserted }
    }

    func release(_ name: String) {
        _ = claimed.withLock { $0.remove(name) }
    }
}
