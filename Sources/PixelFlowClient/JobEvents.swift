import PixelFlowProtocol

/// The events of one job run in stream mode (``PixelFlowClient/process(source:pipeline:options:)``).
///
/// Iterating it submits the job: the first `next()` waits for a request slot, sends the submission and uploads the
/// source, then each call returns the next event as it arrives. Iterate it once. Iteration throws
/// ``PixelFlowClientError`` when the job is rejected or fails, or the connection is lost.
public struct JobEvents: AsyncSequence, Sendable {
    /// A job's events.
    public typealias Element = JobEvent
    /// Iteration fails with the client's typed error.
    public typealias Failure = PixelFlowClientError

    let client: PixelFlowClient
    let source: [UInt8]
    let pipeline: String
    /// The caller's options; without an idempotency key, the client makes one for the job's resubmissions.
    let options: SubmitOptions
    /// The caller gave no key: the client generates one at the first resubmission and sends it with every later
    /// one. The first submission needs none (a stream job whose client leaves is cancelled, so only a resubmission
    /// can meet an earlier run); a key costs the coordinator a hash of the source and a remembered entry per job,
    /// and generating it costs the client two reads of the system's random source. The job may also be run afresh
    /// under a new one.
    let keyIsGenerated: Bool

    /// The iterator that submits the job on its first `next()`.
    public func makeAsyncIterator() -> Iterator { Iterator(job: self) }

    /// Submits the job on the first `next()`, then returns its events one by one. If the connection is lost
    /// meanwhile and the client reconnects, the job is submitted again on the new connection (every resubmission
    /// under the same key: the caller's, or one generated for the job); the
    /// caller sees one ``JobEvent/accepted(_:duplicate:)`` and each variant once. A stream job's variants are not
    /// kept: if the job ended while the client was away, the ones it produced meanwhile are gone, so the job is run
    /// again under a new key (and the variants already delivered skipped); with the caller's own key it cannot be,
    /// and iteration throws ``PixelFlowClientError/Code/connectionLost`` saying how many were missed.
    public struct Iterator: AsyncIteratorProtocol {
        /// A job's events.
        public typealias Element = JobEvent
        /// Iteration fails with the client's typed error.
        public typealias Failure = PixelFlowClientError

        private enum State {
            case notStarted
            case running(AsyncThrowingStream<StreamEvent, any Error>.AsyncIterator, generation: Int)
            case finished
        }

        private let job: JobEvents
        /// The job's options: a generated key once it was first resubmitted, a new one for a run afresh.
        private var options: SubmitOptions
        private var state = State.notStarted
        private var wasAccepted = false
        /// Variant ids handed out: a resubmission's repeats are skipped.
        private var delivered: Set<String> = []

        init(job: JobEvents) {
            self.job = job
            self.options = job.options
        }

        /// The next event; nil after ``JobEvent/completed(_:)``.
        ///
        /// - Throws: ``PixelFlowClientError``: the job's rejection or failure, or a lost connection.
        public mutating func next() async throws(PixelFlowClientError) -> JobEvent? {
            try await next(isolation: nil)
        }

        /// The next event, on the caller's actor; nil after ``JobEvent/completed(_:)``.
        ///
        /// - Throws: ``PixelFlowClientError``: the job's rejection or failure, or a lost connection.
        public mutating func next(
            isolation actor: isolated (any Actor)?
        ) async throws(PixelFlowClientError) -> JobEvent? {
            while true {
                var events: AsyncThrowingStream<StreamEvent, any Error>.AsyncIterator
                var generation: Int
                switch state {
                case .finished:
                    return nil
                case .running(let iterator, let current):
                    (events, generation) = (iterator, current)
                case .notStarted:
                    state = .finished  // a failed start ends the sequence
                    (events, generation) = try await Self.submit(job, options, newerThan: 0)
                }
                let event: StreamEvent?
                do {
                    event = try await events.next(isolation: actor)
                } catch {
                    let failure = ClientConnection.typed(error)
                    guard PixelFlowClient.isLostConnection(failure), job.client.holder.reconnects else {
                        state = .finished
                        throw failure
                    }
                    state = .finished
                    if options.idempotencyKey == nil { options.idempotencyKey = PixelFlowClient.generatedKey() }
                    let (resubmitted, next) = try await Self.submit(job, options, newerThan: generation)
                    state = .running(resubmitted, generation: next)
                    continue
                }
                guard let event else {
                    state = .finished
                    throw Task.isCancelled
                        ? .cancelledByTask : .connectionLost("the job's stream ended without JOB_DONE")
                }
                state = .running(events, generation: generation)
                switch event {
                case .accepted(let accepted):
                    guard !wasAccepted else { continue }  // the resubmission's: the caller already has one
                    wasAccepted = true
                    return .accepted(JobID(accepted.jobID), duplicate: accepted.duplicate)
                case .variant(let variant):
                    guard delivered.insert(variant.id).inserted else { continue }
                    return .variant(variant)
                case .jobDone(let done) where delivered.count < Int(done.variants):
                    // It ended while this client was away (its resubmission watched it end): run it afresh.
                    state = .finished
                    guard job.keyIsGenerated else {
                        throw PixelFlowClientError(
                            .connectionLost,
                            """
                            job \(done.jobID) ended while the client was reconnecting: \(Int(done.variants) - delivered.count) \
                            of its \(done.variants) variants were not received, and a stream job's variants are not kept; \
                            submit it again under a new idempotency key
                            """, jobID: JobID(done.jobID))
                    }
                    options.idempotencyKey = PixelFlowClient.generatedKey()
                    let (afresh, next) = try await Self.submit(job, options, newerThan: generation - 1)
                    state = .running(afresh, generation: next)
                    continue
                case .jobDone(let done):
                    state = .finished
                    return .completed(JobOutcome(wire: done))
                case .status, .workers, .stats, .jobList, .usage:
                    state = .finished
                    throw PixelFlowClient.unexpectedAnswer(to: .submitStream)
                }
            }
        }

        /// Submits the job on a connection newer than `generation`, waiting for the client to reconnect if needed;
        /// a connection lost during the upload is waited out the same way.
        private static func submit(
            _ job: JobEvents, _ options: SubmitOptions, newerThan generation: Int
        ) async throws(PixelFlowClientError) -> (AsyncThrowingStream<StreamEvent, any Error>.AsyncIterator, Int) {
            var (connection, current) = try await job.client.holder.connection(newerThan: generation)
            while true {
                do throws(PixelFlowClientError) {
                    let submit = try PixelFlowClient.makeSubmit(
                        mode: .stream, source: job.source, pipeline: job.pipeline, options: options,
                        limits: connection.session.limits)
                    let events = try await connection.submit(.submitStream, submit, source: job.source)
                    return (events.makeAsyncIterator(), current)
                } catch  where PixelFlowClient.isLostConnection(error) && job.client.holder.reconnects {
                    (connection, current) = try await job.client.holder.connection(newerThan: current)
                }
            }
        }
    }
}
