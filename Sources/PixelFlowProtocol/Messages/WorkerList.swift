import NIOCore

/// WORKERS (coordinator → client): `count u16`, then per worker
/// `name str · address str · slots u16 · busy u16 · done u64 · failed u64 · last_heartbeat_ms_ago u32`.
public struct WorkerList: WirePayload {
    public static let frameType = FrameType.workers

    public struct Worker: Sendable, Hashable {
        public var name: String
        public var address: String
        public var slots: UInt16
        public var busy: UInt16
        public var done: UInt64
        public var failed: UInt64
        public var lastHeartbeatMillisecondsAgo: UInt32

        public init(
            name: String, address: String, slots: UInt16, busy: UInt16, done: UInt64, failed: UInt64,
            lastHeartbeatMillisecondsAgo: UInt32
        ) {
            self.name = name
            self.address = address
            self.slots = slots
            self.busy = busy
            self.done = done
            self.failed = failed
            self.lastHeartbeatMillisecondsAgo = lastHeartbeatMillisecondsAgo
        }
    }

    public var workers: [Worker]

    public init(workers: [Worker]) { self.workers = workers }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        let count = try buffer.readField(UInt16.self, "count")
        var workers: [Worker] = []
        for index in 0..<Int(count) {
            workers.append(
                Worker(
                    name: try buffer.readWireString("workers[\(index)].name"),
                    address: try buffer.readWireString("workers[\(index)].address"),
                    slots: try buffer.readField(UInt16.self, "workers[\(index)].slots"),
                    busy: try buffer.readField(UInt16.self, "workers[\(index)].busy"),
                    done: try buffer.readField(UInt64.self, "workers[\(index)].done"),
                    failed: try buffer.readField(UInt64.self, "workers[\(index)].failed"),
                    lastHeartbeatMillisecondsAgo: try buffer.readField(
                        UInt32.self, "workers[\(index)].last_heartbeat_ms_ago")))
        }
        self.workers = workers
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(clamping: workers.count))
        for worker in workers.prefix(Int(UInt16.max)) {
            buffer.writeWireString(worker.name)
            buffer.writeWireString(worker.address)
            buffer.writeInteger(worker.slots)
            buffer.writeInteger(worker.busy)
            buffer.writeInteger(worker.done)
            buffer.writeInteger(worker.failed)
            buffer.writeInteger(worker.lastHeartbeatMillisecondsAgo)
        }
    }
}
