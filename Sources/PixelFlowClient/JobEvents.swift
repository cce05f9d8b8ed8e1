import PixelFlowProtocol

/// The events of one job run in stream mode (`PixelFlowClient.process`). Iterating it submits the job: the
/// first `next()` waits for a request slot, sends SUBMIT and uploads the source, then each call returns the next
/// event as it arrives. Iterate it once.
public struct JobEvents: AsyncSequence, Sendable {
    public typealias Element = JobEvent
    public typealias Failure = PixelFlowClientError

    let connection: ClientConnection
    let source: [UInt8]
    let pipeline: String
    let options: SubmitOptions

    public func makeAsyncIterator() -> Iterator { Iterator(job: self) }

    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = JobEvent
        public typealias Failure = PixelFlowClientError

        private enum State {
            case notStarted(JobEvents)
            case running(AsyncThrowingStream<StreamEvent, any Error>.AsyncIterator)
            case finished
        }

        private var state: State

        init(job: JobEvents) { state = .notStarted(job) }

        public mutating func next() async throws(PixelFlowClientError) -> JobEvent? {
            try await next(isolation: nil)
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(PixelFlowClientError) -> JobEvent? {
            var events: AsyncThrowingStream<StreamEvent, any Error>.AsyncIterator
            switch state {
            case .finished:
                return nil
            case .running(let iterator):
                events = iterator
            case .notStarted(let job):
                state = .finished  // a failed start ends the sequence
                let submit = try PixelFlowClient.makeSubmit(mode: .stream, source: job.source, pipeline: job.pipeline, options: job.options, limits: job.connection.session.limits)
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
                return .completed(done)
            case .status, .workers, .stats:
                state = .finished
                throw PixelFlowClient.unexpectedAnswer(to: .submitStream)
            }
        }
    }
}
