import NIOCore
import PixelFlowProtocol

/// The request streams of one authenticated client connection. Pure bookkeeping; the handler does the I/O.
/// A class because deliveries may arrive re-entrantly while the handler is updating it (same event loop).
final class ClientLink {
    /// A source being received for a job (or thrown away, after a rejection).
    struct Upload {
        var job: JobID?
        var expected: UInt64
        var received: UInt64 = 0
        var chunks: [Chunk] = []
        var isStreamMode: Bool
    }

    struct Stream {
        var upload: Upload?
        /// Results of this job come back on the stream.
        var awaiting: JobID?
        var isOpen: Bool { upload != nil || awaiting != nil }
    }

    let tenant: String
    let maxInFlight: Int
    var streams: [UInt32: Stream] = [:]
    var lastStreamID: UInt32 = 0

    init(tenant: String, maxInFlight: Int) {
        self.tenant = tenant
        self.maxInFlight = maxInFlight
    }

    /// Checks a request opening a new stream: odd, increasing ids (PROTOCOL.md §10.1).
    func open(_ streamID: UInt32) throws(ProtocolError) {
        guard streamID % 2 == 1, streamID > lastStreamID else {
            throw ProtocolError.malformedStream("a client request must open a new odd stream above \(lastStreamID), got \(streamID)")
        }
        lastStreamID = streamID
    }

    var isAtInFlightLimit: Bool { streams.count >= maxInFlight }

    /// Adds a chunk to the stream's upload. Returns the finished upload when this was its last chunk.
    func receiveChunk(_ chunk: Chunk, on streamID: UInt32) throws(ProtocolError) -> Upload? {
        guard var stream = streams[streamID], var upload = stream.upload else {
            throw ProtocolError.malformedStream("CHUNK on stream \(streamID), which has no source upload open")
        }
        upload.received += UInt64(chunk.decodedSize)
        guard upload.received <= upload.expected else {
            throw ProtocolError.malformedStream("stream \(streamID) sent more than its declared \(upload.expected) source bytes")
        }
        if upload.job != nil { upload.chunks.append(chunk) }
        guard chunk.isLast else {
            stream.upload = upload
            streams[streamID] = stream
            return nil
        }
        guard upload.received == upload.expected || upload.job == nil else {
            throw ProtocolError.malformedStream("stream \(streamID) ended its source at \(upload.received) of \(upload.expected) bytes")
        }
        stream.upload = nil
        streams[streamID] = stream.isOpen ? stream : nil
        return upload
    }

    /// The stream's results are complete (JOB_DONE, JOB_FAILED or a one-shot answer was sent).
    func finishResults(on streamID: UInt32) {
        guard var stream = streams[streamID] else { return }
        stream.awaiting = nil
        streams[streamID] = stream.isOpen ? stream : nil
    }

    /// Jobs whose source upload never finished, to abandon when the connection closes.
    var unfinishedUploads: [JobID] { streams.values.compactMap { $0.upload?.job } }
}

extension ProtocolError {
    static func malformedStream(_ message: String) -> ProtocolError { ProtocolError(.protocolError, message) }
}
