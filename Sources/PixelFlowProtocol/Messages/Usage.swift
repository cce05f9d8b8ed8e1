import NIOCore

/// USAGE_REQUEST (client → coordinator, new stream; protocol v2): the metered usage, one bucket per tenant and
/// hour, oldest first, a page at a time. `since u64` (Unix seconds; buckets of the hour holding it and later) ·
/// `after_hour u64 · after_tenant str` (0 and "" for the first page; otherwise the last bucket of the previous
/// page: only buckets after it in (hour, tenant) order) · `limit u16` (1…500). Answered by USAGE.
public struct UsageRequest: WirePayload {
    public static let frameType = FrameType.usageRequest
    public static let maxLimit: UInt16 = 500

    public var since: UInt64
    public var afterHour: UInt64
    public var afterTenant: String
    public var limit: UInt16

    public init(since: UInt64, afterHour: UInt64 = 0, afterTenant: String = "", limit: UInt16 = Self.maxLimit) {
        self.since = since
        self.afterHour = afterHour
        self.afterTenant = afterTenant
        self.limit = limit
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        since = try buffer.readField(UInt64.self, "since")
        afterHour = try buffer.readField(UInt64.self, "after_hour")
        afterTenant = try buffer.readWireString("after_tenant")
        limit = try buffer.readField(UInt16.self, "limit")
        guard (1...Self.maxLimit).contains(limit) else {
            throw ProtocolError.malformed("limit is \(limit), must be 1…\(Self.maxLimit)")
        }
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(since)
        buffer.writeInteger(afterHour)
        buffer.writeWireString(afterTenant)
        buffer.writeInteger(limit)
    }
}

/// USAGE (coordinator → client; protocol v2; ends the stream): `more bool` (1 = ask again from the last bucket) ·
/// `count u16`, then per bucket `tenant str · hour u64 (Unix seconds) · admitted u64 · succeeded u64 · failed u64 ·
/// cancelled u64 · source_pixels u64 · bytes_in u64 · bytes_out u64 · cpu_ms u64`.
public struct UsageReport: WirePayload {
    public static let frameType = FrameType.usage

    /// One tenant's usage in one hour.
    public struct Bucket: Sendable, Hashable {
        public var tenant: String
        /// Unix seconds at the start of the hour (UTC).
        public var hour: UInt64
        public var counts: UsageCounts

        public init(tenant: String, hour: UInt64, counts: UsageCounts) {
            self.tenant = tenant
            self.hour = hour
            self.counts = counts
        }

        /// Bytes this bucket takes in a USAGE payload.
        public var wireSize: Int { 2 + tenant.utf8.count + 8 + UsageCounts.wireSize }
    }

    public var more: Bool
    public var buckets: [Bucket]

    public init(buckets: [Bucket], more: Bool = false) {
        self.buckets = buckets
        self.more = more
    }

    public init(from buffer: inout ByteBuffer) throws(ProtocolError) {
        more = try buffer.readBool("more")
        let count = try buffer.readField(UInt16.self, "count")
        var buckets: [Bucket] = []
        for index in 0..<Int(count) {
            buckets.append(
                Bucket(
                    tenant: try buffer.readWireString("buckets[\(index)].tenant"),
                    hour: try buffer.readField(UInt64.self, "buckets[\(index)].hour"),
                    counts: try UsageCounts(from: &buffer, field: "buckets[\(index)]")))
        }
        self.buckets = buckets
    }

    public func write(to buffer: inout ByteBuffer) {
        buffer.writeBool(more)
        buffer.writeInteger(UInt16(clamping: buckets.count))
        for bucket in buckets.prefix(Int(UInt16.max)) {
            buffer.writeWireString(bucket.tenant)
            buffer.writeInteger(bucket.hour)
            bucket.counts.write(to: &buffer)
        }
    }
}

/// What a tenant used over some time: jobs by outcome, source pixels decoded, bytes in and out, worker CPU.
public struct UsageCounts: Sendable, Hashable {
    public var admitted: UInt64 = 0
    public var succeeded: UInt64 = 0
    public var failed: UInt64 = 0
    public var cancelled: UInt64 = 0
    /// Width × height of every source a worker decoded (each attempt counts).
    public var sourcePixels: UInt64 = 0
    /// Source bytes received.
    public var bytesIn: UInt64 = 0
    /// Variant bytes produced.
    public var bytesOut: UInt64 = 0
    /// Worker CPU time, milliseconds (each attempt counts).
    public var cpuMilliseconds: UInt64 = 0

    static let wireSize = 8 * 8

    public init(
        admitted: UInt64 = 0, succeeded: UInt64 = 0, failed: UInt64 = 0, cancelled: UInt64 = 0,
        sourcePixels: UInt64 = 0, bytesIn: UInt64 = 0, bytesOut: UInt64 = 0, cpuMilliseconds: UInt64 = 0
    ) {
        self.admitted = admitted
        self.succeeded = succeeded
        self.failed = failed
        self.cancelled = cancelled
        self.sourcePixels = sourcePixels
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.cpuMilliseconds = cpuMilliseconds
    }

    public var isZero: Bool { self == UsageCounts() }

    /// Adds `other` field by field (saturating: a counter never wraps).
    public mutating func add(_ other: UsageCounts) {
        func sum(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (value, overflow) = a.addingReportingOverflow(b)
            return overflow ? .max : value
        }
        admitted = sum(admitted, other.admitted)
        succeeded = sum(succeeded, other.succeeded)
        failed = sum(failed, other.failed)
        cancelled = sum(cancelled, other.cancelled)
        sourcePixels = sum(sourcePixels, other.sourcePixels)
        bytesIn = sum(bytesIn, other.bytesIn)
        bytesOut = sum(bytesOut, other.bytesOut)
        cpuMilliseconds = sum(cpuMilliseconds, other.cpuMilliseconds)
    }

    init(from buffer: inout ByteBuffer, field: String) throws(ProtocolError) {
        admitted = try buffer.readField(UInt64.self, "\(field).admitted")
        succeeded = try buffer.readField(UInt64.self, "\(field).succeeded")
        failed = try buffer.readField(UInt64.self, "\(field).failed")
        cancelled = try buffer.readField(UInt64.self, "\(field).cancelled")
        sourcePixels = try buffer.readField(UInt64.self, "\(field).source_pixels")
        bytesIn = try buffer.readField(UInt64.self, "\(field).bytes_in")
        bytesOut = try buffer.readField(UInt64.self, "\(field).bytes_out")
        cpuMilliseconds = try buffer.readField(UInt64.self, "\(field).cpu_ms")
    }

    func write(to buffer: inout ByteBuffer) {
        for value in [admitted, succeeded, failed, cancelled, sourcePixels, bytesIn, bytesOut, cpuMilliseconds] {
            buffer.writeInteger(value)
        }
    }
}
