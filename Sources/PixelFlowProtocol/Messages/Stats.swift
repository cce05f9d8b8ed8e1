import NIOCore

/// STATS (coordinator → client): `queued u32 · running u32 · admitted u64 · rejected u64 · succeeded u64 ·
/// failed u64 · workers u16 · tenant_count u16`, then per tenant
/// `name str · queued u32 · running u32 · admitted u64 · rejected u64 · succeeded u64 · failed u64`.
public struct Stats: WirePayload {
    public static let frameType = FrameType.stats

    /// Counters for the whole cluster or one tenant.
    public struct Counters: Sendable, Hashable {
        public var queued: UInt32
        public var running: UInt32
        public var admitted: UInt64
        public var rejected: UInt64
        public var succeeded: UInt64
        public var failed: UInt64

        public init(
            queued: UInt32 = 0, running: UInt32 = 0, admitted: UInt64 = 0, rejected: UInt64 = 0, succeeded: UInt64 = 0,
            failed: UInt64 = 0
        ) {
            self.queued = queued
            self.running = running
            self.admitted = admitted
            self.rejected = rejected
            self.succeeded = succeeded
            self.failed = failed
        }

        init(from buffer: inout ByteBuffer, _ field: String) throws(ProtocolError) {
            queued = try buffer.readField(UInt32.self, "\(field).queued")
            running = try buffer.readField(UInt32.self, "\(field).running")
            admitted = try buffer.readField(UInt64.self, "\(field).admitted")
            rejected = try buffer.readField(UInt64.self, "\(field).rejected")
            succeeded = try buffer.readField(UInt64.self, "\(field).succeeded")
            failed = try buffer.readField(UInt64.self, "\(field).failed")
        }

        func write(to buffer: inout ByteBuffer) {
            buffer.writeInteger(queued)
            buffer.writeInteger(running)
            buffer.writeInteger(admitted)
            buffer.writeInteger(rejected)
            buffer.writeInteger(succeeded)
            buffer.writeInteger(failed)
        }
    }

    public struct Tenant: Sendable, Hashable {
        public var name: String
        public var counters: Counters
        public init(name: String, counters: Counters) {
            self.name = name
            self.counters = counters
        }
    }

    public var total: Counters
    public var workers: UInt16
    public var tenants: [Tenant]

    public init(total: Counters, workers: UInt16, tenants: [Tenant]) {
        self.total = total
        self.workers = workers
        self.tenants = tenants
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        total = try Counters(from: &buffer, "total")
        workers = try buffer.readField(UInt16.self, "workers")
        let count = try buffer.readField(UInt16.self, "tenant_count")
        var tenants: [Tenant] = []
        for index in 0..<Int(count) {
            let name = try buffer.readWireString("tenants[\(index)].name")
            tenants.append(Tenant(name: name, counters: try Counters(from: &buffer, "tenants[\(index)]")))
        }
        self.tenants = tenants
    }

    public func write(to buffer: inout ByteBuffer) {
        total.write(to: &buffer)
        buffer.writeInteger(workers)
        buffer.writeInteger(UInt16(clamping: tenants.count))
        for tenant in tenants.prefix(Int(UInt16.max)) {
            buffer.writeWireString(tenant.name)
            tenant.counters.write(to: &buffer)
        }
    }
}
