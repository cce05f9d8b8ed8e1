import NIOCore
import PixelFlowProtocol

/// The request streams of one authenticated client connection. Pure bookkeeping; the handler does the I/O.
/// A class because deliveries may arrive re-entrantly while the handler is updating it (same event loop).
final class ClientLink {
    /// A source being received for a job (or thrown away, after a rejection).
    struct Upload {
        var job: JobID?
        var expected: UInt64
        /// Decodes and holds the source of an admitted job; a refused upload only counts what it swallows.
        var payload: PayloadAssembler?
        var discarded: UInt64 = 0
        var isStreamMode: Bool
        var lastActivity: NIODeadline = .now()

        init(job: JobID?, expected: UInt64, isStreamMode: Bool) {
            self.job = job
            self.expected = expected
            self.isStreamMode = isStreamMode
            self.payload = job == nil ? nil : PayloadAssembler(expected: Int(expected))
        }
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
            throw ProtocolError.malformed("a client request must open a new odd stream above \(lastStreamID), got \(streamID)")
        }
        lastStreamID = streamID
    }

    var isAtInFlightLimit: Bool { streams.count >= maxInFlight }

    /// Adds a chunk to the stream's upload. Returns the finished upload when this was its last chunk.
    func receiveChunk(_ chunk: Chunk, on streamID: UInt32) throws(ProtocolError) -> Upload? {
        // Taken out of the table (and the payload out of the upload) so the buffer has one owner and appending
        // never copies it; a throw closes the connection anyway.
        guard var stream = streams.removeValue(forKey: streamID), var upload = stream.upload else {
            throw ProtocolError.malformed("CHUNK on stream \(streamID), which has no source upload open")
        }
        stream.upload = nil
        upload.lastActivity = .now()
        if var payload = upload.payload {
            upload.payload = nil
            let complete = try payload.add(chunk)
            upload.payload = payload
            guard complete else {
                stream.upload = upload
                streams[streamID] = stream
                return nil
            }
        } else {
            // A refused upload is thrown away, but still held to its declared size and to well-formed chunks.
            upload.discarded += UInt64(chunk.decodedSize)
            guard upload.discarded <= upload.expected, chunk.isLast || chunk.decodedSize > 0 else {
                throw ProtocolError.malformed("stream \(streamID) sent chunks beyond its declared \(upload.expected) bytes")
            }
            guard chunk.isLast else {
                stream.upload = upload
                streams[streamID] = stream
                return nil
            }
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

    /// Keeps swallowing the stream's source up to END, but for no job any more.
    func discardUpload(on streamID: UInt32) {
        guard let upload = streams[streamID]?.upload, let payload = upload.payload else { return }
        var discarding = Upload(job: nil, expected: upload.expected, isStreamMode: upload.isStreamMode)
        discarding.discarded = UInt64(payload.received)
        streams[streamID]?.upload = discarding
    }

    /// Jobs whose source upload never finished, to abandon when the connection closes.
    var unfinishedUploads: [JobID] { streams.values.compactMap { $0.upload?.job } }

    /// Admitted uploads that have not moved since `deadline`: they hold queue room and source bytes for nothing.
    func stalledUploads(since deadline: NIODeadline) -> [(stream: UInt32, job: JobID)] {
        streams.compactMap { id, stream in
            guard let upload = stream.upload, let job = upload.job, upload.lastActivity < deadline else { return nil }
            return (id, job)
        }
    }
}
