import NIOCore
import PixelFlowProtocol

/// A tenant's bucket and counters.
struct TenantState: Sendable {
    var policy: TenantPolicy
    var bucket: TokenBucket
    /// Admitted jobs not yet running: receiving their source, queued, or waiting to retry.
    var waiting = 0
    var running = 0
    var counters = Stats.Counters()
    /// Declared source sizes of this tenant's live jobs: bounded by `maxHeldSourceBytes`.
    var heldSourceBytes: UInt64 = 0
    var idempotencyKeys: RecentMap<String, IdempotencyRecord>

    init(policy: TenantPolicy, now: NIODeadline, rememberedKeys: Int) {
        self.policy = policy
        self.idempotencyKeys = RecentMap(capacity: rememberedKeys)
        self.bucket = TokenBucket(rate: policy.rate, burst: policy.burst, now: now)
    }
}
