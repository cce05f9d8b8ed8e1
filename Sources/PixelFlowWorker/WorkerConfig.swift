import NIOCore
import PixelFlowImaging
import PixelFlowProtocol
import PixelFlowTLS

/// How a worker connects and how much it takes on.
public struct WorkerConfig: Sendable {
    public var coordinatorHost: String
    public var coordinatorPort: Int
    /// The join key (`join.key_id`, default "worker") and its secret (`PIXELFLOW_JOIN_SECRET`).
    public var keyID: String
    public var secret: [UInt8]
    public var name: String
    /// Tasks run at once; also the number of libvips threads.
    public var slots: Int
    /// Answer every task with a tiny fixed variant, without decoding (a benchmarking aid for the coordinator).
    public var nullEngine = false
    /// Bytes in each null-engine variant (pseudo-random): lets load tests produce large results cheaply.
    public var nullVariantBytes = 16
    /// Simulated work per null-engine task, so scheduling can be measured with many workers on a few cores.
    public var nullWork = SimulatedWork.none
    /// Reconnect delays: doubling from the first to the last, with jitter.
    public var reconnectDelay: TimeAmount = .milliseconds(100)
    public var maxReconnectDelay: TimeAmount = .seconds(5)
    /// Time allowed for the TCP connection to open, and from it to a verified AUTH_OK.
    public var connectTimeout: TimeAmount = .seconds(5)
    public var handshakeTimeout: TimeAmount = .seconds(10)
    /// How long SIGTERM waits for running tasks before handing them back.
    public var drainTimeout: TimeAmount = .seconds(30)
    /// What the imaging engine accepts (source bytes, pixels, sides, frames, time per job).
    public var imagingLimits = ImagingLimits.default
    /// TLS to the coordinator (`--ca`, and `--cert`/`--key` for mutual TLS); nil: plain TCP.
    public var tls: ClientTLS?
    /// Each GET of a source or PUT of a variant of an ASSIGN_OBJECT task, connection to last byte.
    public var objectTimeout: TimeAmount = .seconds(60)

    public init(
        coordinatorHost: String, coordinatorPort: Int, keyID: String = "worker", secret: [UInt8], name: String,
        slots: Int
    ) {
        self.coordinatorHost = coordinatorHost
        self.coordinatorPort = coordinatorPort
        self.keyID = keyID
        self.secret = secret
        self.name = name
        self.slots = max(1, slots)
    }
}
