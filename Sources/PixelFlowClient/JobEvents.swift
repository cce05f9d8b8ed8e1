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

    let connection: ClientConnection
    let source: [UInt8]
    let pipeline: String
    let options: SubmitOptions

    /// The iterator that submits the job on its first `next()`.
    public func makeAsyncIterator() -> Iterator { Iterator(job: self) }

    /// Submits the job on the first `next()`, then returns its events one by one.
    public struct Iterator: AsyncIteratorProtocol {
        /// A job's events.
        public typealias Element = JobEvent
        /// Iteration fails with the client's typed error.
        public typealias Failure = PixelFlowClientError

        private enum State {
            case notStarted(JobEvents)
            case running(AsyncThrowingStream<StreamEvent, any Error>.AsyncIterator)
            case finished
        }

        private var state: State

        init(job: JobEvents) { state = .notStarted(job) }

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
            var events: AsyncThrowingStream<StreamEvent, any Error>.AsyncIterator
            switch state {
            case .finished:
                return nil
            case .running(let iterator):
                events = iterator
            case .notStarted(let job):
                state = .finished  // a failed start ends the sequence
                let submit = try PixelFlowClient.makeSubmit(
                    mode: .stream, source: job.source, pipeline: job.pipeline, options: job.options,
                    limits: job.connection.session.limits)
                events = try await job.connection.submit(.submitStream, submit, source: job.source).makeAsyncIterator()
            }
            let event: StreamEvent?
            do {
                event = try await events.next(isolation: actor)
            } catch {
                state = .finished
                throw ClientConnection.typed(error)
            }
            guard let event else {
                state = .finished
                throw Task.isCancelled ? .cancelledByTask : .connectionLost("the job's stream ended without JOB_DONE")
            }
            switch event {
            case .accepted(let accepted):
                state = .running(events)
                return .accepted(JobID(accepted.jobID), duplicate: accepted.duplicate)
            case .variant(let variant):
                state = .running(events)
                return .variant(variant)
            case .jobDone(let done):
                state = .finished
                return .completed(JobOutcome(wire: done))
            case .status, .workers, .stats:
                state = .finished
                throw PixelFlowClient.unexpectedAnswer(to: .submitStream)
            }
        }
    }
}
