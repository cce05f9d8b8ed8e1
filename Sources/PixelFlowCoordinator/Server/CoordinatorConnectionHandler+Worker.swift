import Logging
import NIOCore
import PixelFlowProtocol

/// The worker link: registration, heartbeats, variants and task outcomes, and the tasks sent to it.
extension CoordinatorConnectionHandler {
    func handleWorker(_ frame: Frame, _ registered: WorkerLink?) throws(ProtocolError) {
        guard let worker = registered else {
            guard case .register(let register) = frame.message else {
                throw ProtocolError.malformed("a worker's first frame after AUTH_OK must be REGISTER, got \(frame.message.frameType)")
            }
            let (id, actions) = coordinator.registerWorker(connection: connectionID, register: register, address: peerAddress)
            coordinator.logger.info(
                "worker registered", metadata: ["worker": "\(id)", "name": "\(register.name)", "peer": "\(peerAddress)", "slots": "\(register.slots)"])
            link = .worker(WorkerLink(workerID: id, maxVariantBytes: limits.maxVariantBytes))
            write(.frame(Frame(.registered(Registered(workerID: id)))))
            coordinator.run(actions)
            return
        }
        let stream = frame.streamID
        let workerID = worker.workerID
        switch frame.message {
        case .heartbeat(let heartbeat):
            coordinator.transition {
                $0.heartbeat(worker: workerID, tasks: heartbeat.tasks, freeSlots: Int(heartbeat.freeSlots), now: .now())
            }
        case .variant(let header):
            try worker.beginVariant(header, on: stream)
        case .chunk(let chunk):
            guard let (task, variant) = try worker.receiveChunk(chunk, on: stream) else { return }
            let route = coordinator.withState {
                $0.variantFinished(worker: workerID, job: task.job, attempt: task.attempt, variantID: variant.header.variantID)
            }
            if case .deliver(let subscribers) = route {
                let chunks = PayloadAssembler.chunks(of: variant.payload.bytes, size: Int(limits.maxChunkData))
                coordinator.deliverVariant(variant.header, chunks: chunks, to: subscribers)
            }
        case .taskDone(let done):
            try worker.endTask(on: stream, job: done.taskID, attempt: done.attempt)
            coordinator.transition { $0.taskDone(worker: workerID, job: done.taskID, attempt: done.attempt, now: .now()) }
        case .taskFailed(let failed):
            try worker.endTask(on: stream, job: failed.taskID, attempt: failed.attempt)
            coordinator.transition {
                $0.taskFailed(worker: workerID, job: failed.taskID, attempt: failed.attempt, code: failed.code,
                              permanent: failed.permanent, message: failed.message, now: .now())
            }
        case .drain:
            coordinator.withState { $0.drain(worker: workerID) }
        case .ping, .pong, .goAway:
            handleConnectionFrame(frame.message)
        case .hello, .auth, .authOK, .register, .registered, .submit, .accepted, .rejected, .jobDone, .jobFailed,
            .cancel, .statusRequest, .status, .watch, .workersRequest, .workers, .statsRequest, .stats, .assign, .cancelTask:
            throw ProtocolError.malformed("\(frame.message.frameType) is not expected from a worker after REGISTER")
        }
    }

    /// A task for this worker, or a cancel of one, from the cluster's dispatch.
    func deliverToWorker(_ delivery: Delivery, _ worker: WorkerLink) {
        switch delivery {
        case .assign(let assign, let source):
            let stream = worker.openTask(job: assign.taskID, attempt: assign.attempt)
            write(.frame(Frame(stream: stream, .assign(assign))))
            for chunk in source { write(.frame(Frame(stream: stream, .chunk(chunk)))) }
        case .cancelTask(let job, let attempt):
            guard let stream = worker.stream(of: job, attempt: attempt) else { return }
            write(.frame(Frame(stream: stream, .cancelTask(CancelTask(taskID: job, attempt: attempt)))))
        case .variant, .outcome, .goAway:
            return
        }
        scheduleFlush()
    }

    // MARK: Deliveries from other connections

    func deliver(_ delivery: Delivery) {
        if case .goAway(let goAway, let closeNow, let clientsOnly) = delivery {
            switch link {
            case .client: write(.frame(Frame(.goAway(goAway))))
            case .worker where !clientsOnly: write(.frame(Frame(.goAway(goAway))))
            case .worker, .handshaking, .closed: if !closeNow { return }
            }
            return closeNow ? close() : scheduleFlush()
        }
        switch link {
        case .client(let client): deliverToClient(delivery, client)
        case .worker(let worker?): deliverToWorker(delivery, worker)
        case .worker(nil), .handshaking, .closed: return  // the connection closed, or the delivery no longer applies
        }
    }
}
