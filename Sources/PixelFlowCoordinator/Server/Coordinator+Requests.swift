import Logging
import NIOCore
import PixelFlowProtocol

extension Coordinator {
    /// Runs one connection's request in one step under the lock: the cluster's answer for the asking connection,
    /// and the deliveries its transition causes for others, to `send()` once that answer is handled (so the
    /// asker writes ACCEPTED before any result of the job can reach it).
    func perform(_ request: ClusterRequest, from peer: ConnectionInfo) -> (reply: ClusterReply?, deliveries: Deliveries)
    {
        let now = NIODeadline.now()
        return shared.withLock { shared in
            var actions: [ClusterAction] = []
            var reply: ClusterReply?
            switch request {
            case .loginAllowed:
                reply = .loginWait(shared.loginThrottle.wait(for: peer.host, now: now))
            case .loginSucceeded:
                shared.loginThrottle.succeeded(peer.host)
            case .loginFailed:
                shared.loginThrottle.failed(peer.host, now: now)
            case .admit(let admission):
                let stream =
                    admission.submit.mode == .stream ? Subscriber(connection: peer.id, stream: admission.stream) : nil
                reply = .admission(
                    admission,
                    shared.cluster.admit(
                        tenant: admission.tenant, submit: admission.submit,
                        variantCount: admission.pipeline.variantCount,
                        formats: admission.pipeline.formats,
                        subscriber: stream, now: now))
            case .sourceComplete(let stream, let job, let source, let bytes, let digest, let isStreamMode):
                // Checked and queued in one step: a CANCEL cannot land in between.
                let isLive = shared.cluster.isLive(job)
                if isLive {
                    actions = shared.cluster.sourceReceived(
                        job, source: .chunks(source), bytes: bytes, digest: digest,
                        submitter: Subscriber(connection: peer.id, stream: stream), now: now)
                }
                // A stored job is ACCEPTED once its record commits (`ClusterAction.accepted`).
                let outcome: SourceOutcome =
                    !isLive ? .ended : shared.cluster.isStored(job) ? .persisting : .queued
                reply = .sourceStored(stream: stream, job: job, isStreamMode: isStreamMode, outcome)
            case .cancel(let job, let tenant, let stream):
                let (status, cancelled) = shared.cluster.cancel(job, tenant: tenant, now: now)
                actions = cancelled
                reply = .jobStatus(stream: stream, job, status)
            case .status(let job, let tenant, let stream):
                reply = .jobStatus(stream: stream, job, shared.cluster.status(of: job, tenant: tenant))
            case .watch(let job, let tenant, let stream):
                let subscriber = Subscriber(connection: peer.id, stream: stream)
                reply = .watch(stream: stream, job, shared.cluster.watch(job, tenant: tenant, subscriber: subscriber))
            case .fetch(let job, let tenant, let stream):
                let subscriber = Subscriber(connection: peer.id, stream: stream)
                reply = .fetch(stream: stream, job, shared.cluster.fetch(job, tenant: tenant, subscriber: subscriber))
            case .workers(let tenant, let stream):
                reply = .workers(stream: stream, shared.cluster.workerList(now: now, showAddresses: isAdmin(tenant)))
            case .stats(let tenant, let stream):
                reply = .stats(stream: stream, stats(shared.cluster.stats, for: tenant))
            case .abandonUpload(let job, let stream, let reason):
                shared.cluster.unsubscribe(Subscriber(connection: peer.id, stream: stream), from: job)
                actions = shared.cluster.abandon(job, reason: reason, now: now)
            case .clientCongested(true):
                logger.notice("over \(settings.maxOutboundBytes) bytes queued: its jobs wait", metadata: peer.metadata)
                shared.cluster.connectionCongested(peer.id)
            case .clientCongested(false):
                actions = shared.cluster.connectionRelieved(peer.id, now: now)
            case .clientClosed(let unfinishedUploads):
                for job in unfinishedUploads {
                    actions += shared.cluster.abandon(
                        job, reason: "the client left before its source was complete", now: now)
                }
                actions += shared.cluster.clientLost(connection: peer.id, now: now)
            case .registerWorker(let register):
                let (id, assignments) = shared.cluster.registerWorker(
                    name: register.name, address: peer.address, slots: Int(register.slots), formats: register.formats,
                    now: now)
                shared.workerConnections[id] = peer.id
                logger.info(
                    "worker registered",
                    metadata: peer.metadata.merging(
                        ["worker": "\(id)", "name": "\(register.name)", "slots": "\(register.slots)"]) { $1 })
                actions = assignments
                reply = .registered(id)
            case .heartbeat(let worker, let heartbeat):
                actions = shared.cluster.heartbeat(
                    worker: worker, tasks: heartbeat.tasks, freeSlots: Int(heartbeat.freeSlots), now: now)
            case .variantReceived(let worker, let header, let chunks):
                let route = shared.cluster.variantFinished(header, worker: worker, now: now)
                guard case .deliver(let subscribers, let isStored) = route else { break }
                recordVariantMetrics(header)
                if isStored {
                    do throws(ProtocolError) {
                        try shared.cluster.recordVariant(header, chunks: chunks)
                    } catch {
                        logger.error("variant \(header.variantID) of job \(header.jobID) not stored: \(error)")
                    }
                }
                var deliveries = Deliveries()
                for subscriber in subscribers {
                    guard let target = shared.connections[subscriber.connection] else { continue }
                    deliveries.append(target, .variant(stream: subscriber.stream, header, chunks))
                }
                return (nil, settle(deliveries, in: &shared))
            case .variantStored(let worker, let header):
                // Nothing to relay: the bytes are in the object store, where GET /v1/jobs/{id} and FETCH find them.
                let route = shared.cluster.variantFinished(header, worker: worker, now: now)
                if case .deliver = route { recordVariantMetrics(header) }
                guard case .deliver(_, isStored: true) = route, let objects,
                    let tenant = shared.cluster.tenant(of: header.jobID)
                else { break }
                shared.cluster.recordObjectVariant(
                    header,
                    key: objects.resultKey(
                        tenant: tenant, job: header.jobID, variantID: header.variantID, format: header.format))
            case .taskDone(let worker, let done):
                metrics.taskDuration.record(.milliseconds(Int64(done.elapsedMilliseconds)))
                if let decode = done.decodeMilliseconds { metrics.decodeDuration.record(.milliseconds(Int64(decode))) }
                actions = shared.cluster.taskDone(
                    worker: worker, job: done.taskID, attempt: done.attempt, usage: done.usage, now: now)
            case .taskFailed(let worker, let failed):
                actions = shared.cluster.taskFailed(
                    worker: worker, job: failed.taskID, attempt: failed.attempt, code: failed.code,
                    permanent: failed.permanent, message: failed.message, usage: failed.usage, now: now)
            case .drainWorker(let worker):
                shared.cluster.drain(worker: worker)
            case .workerCongested(let worker, let congested):
                if congested {
                    logger.notice(
                        "over \(settings.maxOutboundBytes) bytes queued: no new tasks", metadata: peer.metadata)
                }
                actions = shared.cluster.workerCongested(worker, congested, now: now)
            case .workerClosed(let worker):
                logger.info(
                    "worker disconnected; its tasks are requeued",
                    metadata: peer.metadata.merging(["worker": "\(worker)"]) { $1 })
                shared.workerConnections[worker] = nil
                actions = shared.cluster.workerLost(worker, now: now)
            }
            var deliveries = settle(route(actions, in: shared), in: &shared)
            shared.reportIfDrained(into: &deliveries)
            return (reply, deliveries)
        }
    }

    /// Turns the cluster's actions into deliveries to live connections (under the lock), and writes the job lines.
    func route(_ actions: [ClusterAction], in shared: borrowing Shared) -> Deliveries {
        var deliveries = Deliveries()
        for action in actions {
            switch action {
            case .admitted(let job, let tenant, let sourceSize):
                logger.debug("job queued", metadata: ["job_id": "\(job)", "tenant": "\(tenant)"])
                metrics.sourceBytes.record(Double(sourceSize))
            case .assign(let worker, let tenant, let assign, let source, let queuedFor):
                if let queuedFor { metrics.queueWait.record(.nanoseconds(queuedFor.nanoseconds)) }
                logger.debug(
                    "job assigned",
                    metadata: [
                        "job_id": "\(assign.taskID)", "tenant": "\(tenant)", "attempt": "\(assign.attempt)",
                        "worker": "\(worker)",
                    ])
                guard let connection = shared.workerConnections[worker], let target = shared.connections[connection]
                else { continue }
                switch source {
                case .chunks(let chunks):
                    deliveries.append(target, .assign(assign, chunks))
                case .object(let key):
                    // Signing is computation only (HMACs), done here like the rest of the routing.
                    guard let objects else { continue }
                    deliveries.append(
                        target, .assignObject(objects.assignment(for: assign, tenant: tenant, sourceKey: key)))
                }
            case .cancelTask(let worker, let job, let attempt):
                guard let connection = shared.workerConnections[worker], let target = shared.connections[connection]
                else { continue }
                deliveries.append(target, .cancelTask(job: job, attempt: attempt))
            case .accepted(let job, let submitter):
                if submitter.connection == CommitWaiters.connection {
                    deliveries.answer(commitWaiters, job, nil)
                    continue
                }
                guard let target = shared.connections[submitter.connection] else { continue }
                deliveries.append(target, .accepted(stream: submitter.stream, job))
            case .refused(let job, let submitter, let error):
                logger.debug("job not stored", metadata: ["job_id": "\(job)", "error": "\(error)"])
                if submitter.connection == CommitWaiters.connection {
                    deliveries.answer(commitWaiters, job, error)
                    continue
                }
                guard let target = shared.connections[submitter.connection] else { continue }
                deliveries.append(target, .refused(stream: submitter.stream, job, Rejected(error)))
            case .internalError(let problem):
                logger.error("internal error: \(problem)")
            case .finished(let job, let tenant, let subscribers, let outcome):
                if case .jobDone(let done) = outcome {
                    metrics.jobDuration.record(.milliseconds(Int64(done.elapsedMilliseconds)))
                }
                logger.debug("job ended", metadata: Self.outcomeMetadata(job, tenant: tenant, outcome))
                for subscriber in subscribers {
                    guard let target = shared.connections[subscriber.connection] else { continue }
                    deliveries.append(target, .outcome(stream: subscriber.stream, outcome))
                }
            }
        }
        return deliveries
    }

    private func recordVariantMetrics(_ header: VariantHeader) {
        metrics.variantBytes.record(Double(header.size))
        metrics.encodeDuration(format: header.format).record(.milliseconds(Int64(header.elapsedMilliseconds)))
    }

    private static func outcomeMetadata(_ job: JobID, tenant: String, _ outcome: Message) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["job_id": "\(job)", "tenant": "\(tenant)"]
        if case .jobDone(let done) = outcome {
            metadata["attempt"] = "\(done.attempts)"
            metadata["outcome"] = "succeeded"
        } else if case .jobFailed(let failed) = outcome {
            metadata["attempt"] = "\(failed.attempts)"
            metadata["outcome"] = "\(failed.code.name)"
        }
        return metadata
    }
}

/// Messages for other connections, collected under the coordinator's lock and sent after it is released.
struct Deliveries {
    /// Per connection, in the order each first got one: a connection's deliveries leave in one hop, in order.
    private var byConnection: [(target: ConnectionHandle, deliveries: [Delivery])] = []
    /// Steps of HTTP requests that committed (nil) or were refused.
    private var answers: [(CommitWaiters, JobID, ProtocolError?)] = []
    /// A graceful shutdown waiting for the last job to end: woken once everything above is on its way.
    private var drained: AsyncStream<Void>.Continuation?

    /// Most steps reach one or two connections: the last one is looked at first.
    mutating func append(_ target: ConnectionHandle, _ delivery: Delivery) {
        if let last = byConnection.indices.last, byConnection[last].target.id == target.id {
            byConnection[last].deliveries.append(delivery)
        } else if let index = byConnection.firstIndex(where: { $0.target.id == target.id }) {
            byConnection[index].deliveries.append(delivery)
        } else {
            byConnection.append((target, [delivery]))
        }
    }

    mutating func answer(_ waiters: CommitWaiters, _ job: JobID, _ error: ProtocolError?) {
        answers.append((waiters, job, error))
    }

    mutating func wake(_ shutdown: AsyncStream<Void>.Continuation) {
        drained = shutdown
    }

    mutating func append(contentsOf other: Deliveries) {
        for (target, deliveries) in other.byConnection {
            for delivery in deliveries { append(target, delivery) }
        }
        answers += other.answers
        drained = other.drained ?? drained
    }

    func send() {
        for (target, deliveries) in byConnection { target.deliver(deliveries) }
        for (waiters, job, error) in answers { waiters.resume(job, with: error) }
        drained?.yield()
    }
}

extension ConnectionInfo {
    var metadata: Logger.Metadata { ["connection": "\(id)", "peer": "\(address)"] }
}
