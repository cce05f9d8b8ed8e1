import NIOCore

/// What one task cost its worker, appended to TASK_DONE and TASK_FAILED in protocol v2:
/// `cpu_ms u32 · source_pixels u64`. The coordinator meters it per tenant (`pfctl usage`).
public struct TaskUsage: Sendable, Hashable {
    /// The worker process's CPU time while the task ran, shared evenly among the tasks running at each moment.
    public var cpuMilliseconds: UInt32
    /// Width × height of the source as its header states them; 0 when the header could not be read.
    public var sourcePixels: UInt64

    public static let wireSize = 12

    public init(cpuMilliseconds: UInt32, sourcePixels: UInt64) {
        self.cpuMilliseconds = cpuMilliseconds
        self.sourcePixels = sourcePixels
    }

    /// Reads the fields if the payload goes on past the v1 ones; a v1 payload ends before them. Whether the
    /// connection's version allows them (v2 requires them, v1 forbids them) is the link's check.
    static func readIfPresent(from buffer: inout ByteBuffer) throws(ProtocolError) -> TaskUsage? {
        guard buffer.readableBytes > 0 else { return nil }
        return TaskUsage(
            cpuMilliseconds: try buffer.readField(UInt32.self, "cpu_ms"),
            sourcePixels: try buffer.readField(UInt64.self, "source_pixels"))
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(cpuMilliseconds)
        buffer.writeInteger(sourcePixels)
    }
}
