import NIOCore
import PixelFlowProtocol

/// The request streams of one authenticated client connection: what is open, which job each awaits, and the
/// sources still arriving. Part of the connection's state machine (ClientLink+Requests.swift); no I/O.
struct ClientLink {
    /// A source arriving on a SUBMIT stream.
    struct Upload {
        enum Purpose {
            /// The source of an admitted job: decoded and held.
            case job(JobID)
            /// A resubmission under an idempotency key: only hashed, then compared with the first job's source.
            case duplicate(of: JobID, sourceDigest: [UInt8], hasher: StreamingSHA256)
            /// Refused: swallowed up to END, counted against its declared size.
            case discard
        }

        var purpose: Purpose
        var expected: UInt64
        var payload: PayloadAssembler?
        var received: UInt64 = 0
        var isStreamMode: Bool
        /// The SUBMIT named an idempotency key: the source's digest is kept to recognise resubmissions.
        var hasIdempotencyKey = false
        var lastActivity: NIODeadline
        /// The whole source must have arrived by then (idle grace plus its size at the minimum upload rate).
        var deadline: NIODeadline

        init(_ purpose: Purpose, expected: UInt64, isStreamMode: Bool, now: NIODeadline, deadline: NIODeadline) {
            self.purpose = purpose
            self.expected = expected
            self.isStreamMode = isStreamMode
            self.lastActivity = now
            self.deadline = deadline
            if case .job = purpose {
                payload = PayloadAssembler(expected: Int(expected))
            }
        }

        var job: JobID? {
            if case .job(let job) = purpose { return job }
            return nil
        }
    }

    struct Stream {
        var upload: Upload?
        /// Results of this job come back on the stream.
        var awaiting: JobID?
        /// A FETCH: live variants are not relayed; the stored ones are read and sent once the job has ended.
        var isFetch = false
        var isOpen: Bool { upload != nil || awaiting != nil }
    }

    let tenant: String
    /// The protocol version the handshake chose: FETCH needs v2.
    let version: UInt8
    let rules: ClientRules
    var streams: [UInt32: Stream] = [:]
    var lastStreamID: UInt32 = 0

    init(tenant: String, version: UInt8 = ProtocolVersion.v2, rules: ClientRules) {
        self.tenant = tenant
        self.version = version
        self.rules = rules
    }

    var maxInFlight: Int { rules.maxInFlight }

    /// Checks a request opening a new stream: odd, increasing ids (PROTOCOL.md §10.1).
    mutating func open(_ streamID: UInt32) throws(ProtocolError) {
        guard streamID % 2 == 1, streamID > lastStreamID else {
            throw ProtocolError.malformed(
                "a client request must open a new odd stream above \(lastStreamID), got \(streamID)")
        }
        lastStreamID = streamID
    }

    var isAtInFlightLimit: Bool { streams.count >= maxInFlight }

    /// Adds a chunk to the stream's upload. Returns the finished upload when this was its last chunk. On a
    /// violation the upload stays in the table, so the job it feeds is abandoned with the connection.
    mutating func receiveChunk(_ chunk: Chunk, on streamID: UInt32, now: NIODeadline) throws(ProtocolError) -> Upload? {
        // Taken out of the table (and the payload out of the upload) so the buffer has one owner and appending
        // never copies it.
        guard var stream = streams.removeValue(forKey: streamID), var upload = stream.upload else {
            throw ProtocolError.malformed("CHUNK on stream \(streamID), which has no source upload open")
        }
        stream.upload = nil
        upload.lastActivity = now
        do throws(ProtocolError) {
            let complete = try Self.add(chunk, to: &upload, streamID: streamID)
            guard complete else {
                stream.upload = upload
                streams[streamID] = stream
                return nil
            }
        } catch {
            stream.upload = upload
            streams[streamID] = stream
            throw error
        }
        streams[streamID] = stream.isOpen ? stream : nil
        return upload
    }

    private static func add(_ chunk: Chunk, to upload: inout Upload, streamID: UInt32) throws(ProtocolError) -> Bool {
        switch upload.purpose {
        case .job:
            guard var payload = upload.payload else { return false }
            upload.payload = nil
            defer { upload.payload = payload }
            return try payload.add(chunk)
        case .duplicate(let job, let digest, var hasher):
            try checkSize(chunk, &upload, streamID: streamID)
            hasher.update(try chunk.decoded())
            upload.purpose = .duplicate(of: job, sourceDigest: digest, hasher: hasher)
            guard chunk.isLast else { return false }
            guard upload.received == upload.expected else {
                throw ProtocolError.malformed(
                    "stream \(streamID)'s source ended at \(upload.received) of its declared \(upload.expected) bytes")
            }
            return true
        case .discard:
            // A refused upload is thrown away, but still held to its declared size and to well-formed chunks.
            try checkSize(chunk, &upload, streamID: streamID)
            return chunk.isLast
        }
    }

    private static func checkSize(_ chunk: Chunk, _ upload: inout Upload, streamID: UInt32) throws(ProtocolError) {
        upload.received += UInt64(chunk.decodedSize)
        guard upload.received <= upload.expected, chunk.isLast || chunk.decodedSize > 0 else {
            throw ProtocolError.malformed("stream \(streamID) sent chunks beyond its declared \(upload.expected) bytes")
        }
    }

    /// The stream's results are complete (JOB_DONE, JOB_FAILED or a one-shot answer was sent).
    mutating func finishResults(on streamID: UInt32) {
        guard var stream = streams[streamID] else { return }
        stream.awaiting = nil
        streams[streamID] = stream.isOpen ? stream : nil
    }

    /// Keeps swallowing the stream's source up to END, but for no job any more.
    mutating func discardUpload(on streamID: UInt32) {
        guard var upload = streams[streamID]?.upload else { return }
        upload.received = UInt64(upload.payload?.received ?? Int(upload.received))
        upload.payload = nil
        upload.purpose = .discard
        streams[streamID]?.upload = upload
    }

    /// Jobs whose source upload never finished, to abandon when the connection closes.
    var unfinishedUploads: [JobID] { streams.values.compactMap { $0.upload?.job } }

    /// Reading was paused for `pause` (backpressure): uploads get that time back.
    mutating func extendUploads(by pause: TimeAmount) {
        for (id, stream) in streams {
            guard var upload = stream.upload else { continue }
            upload.lastActivity = upload.lastActivity + pause
            upload.deadline = upload.deadline + pause
            streams[id]?.upload = upload
        }
    }

    /// Forgets the stream's upload (a refused one that went quiet: a later CHUNK on it is a protocol error).
    mutating func dropUpload(on streamID: UInt32) {
        guard var stream = streams[streamID] else { return }
        stream.upload = nil
        streams[streamID] = stream.isOpen ? stream : nil
    }

    /// Uploads that sent nothing since `idleSince`, or are past their completion deadline: an admitted one holds
    /// queue room and source bytes that other jobs need; any of them holds a request slot.
    func expiredUploads(idleSince: NIODeadline, now: NIODeadline) -> [(stream: UInt32, upload: Upload, idle: Bool)] {
        streams.compactMap { id, stream in
            guard let upload = stream.upload else { return nil }
            if upload.lastActivity < idleSince { return (id, upload, true) }
            if upload.deadline <= now { return (id, upload, false) }
            return nil
        }
    }
}

/// What a client link checks requests against: a few settings and the pipeline rules. A class, shared by every
/// client link, so the link stays small — it is moved in and out of the connection's state on every frame.
final class ClientRules: Sendable {
    let maxInFlight: Int
    let maxVariants: Int
    let maxChunkData: Int
    let uploadIdleTimeout: TimeAmount
    let minUploadBytesPerSecond: UInt64
    let validatePipeline: PipelineValidator

    init(settings: CoordinatorSettings, validatePipeline: @escaping PipelineValidator) {
        maxInFlight = Int(settings.limits.maxInFlight)
        maxVariants = Int(settings.limits.maxVariants)
        maxChunkData = Int(settings.limits.maxChunkData)
        uploadIdleTimeout = settings.uploadIdleTimeout
        minUploadBytesPerSecond = UInt64(settings.minUploadBytesPerSecond)
        self.validatePipeline = validatePipeline
    }
}
