#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a lock, with the standard library `Mutex`'s `withLock`, that ThreadSanitizer understands.
///
/// `Mutex` on Linux hands a contended lock over inside the kernel (a priority-inheritance futex), in library code
/// built without the sanitizer: ThreadSanitizer misses that hand-over and, once in a while, reports a race between
/// two critical sections of the same lock. This is a `pthread_mutex_t`, whose calls the sanitizer intercepts, so
/// `tools/tsan.sh` in CI reports only real races. The value sits behind a pointer so that taking it `inout` needs no
/// dynamic exclusivity check (the lock already makes the access exclusive).
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let value: UnsafeMutablePointer<Value>

    public init(_ initialValue: Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        value = .allocate(capacity: 1)
        value.initialize(to: initialValue)
    }

    deinit {
        value.deinitialize(count: 1)
        value.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock.
    public func withLock<Result, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}
