import NIOCore

@testable import PixelFlowProtocol

/// The golden frames of proto/vectors/: one or more per frame type, with deterministic field values.
/// `GoldenVectorTests` checks the committed files against these; `PIXELFLOW_WRITE_VECTORS=1 swift test
/// --filter GoldenVectorTests` rewrites the files after a deliberate protocol change.
enum GoldenFrames {
    static let serverNonce = (0..<32).map { UInt8($0) }
    static let clientNonce = (0..<32).map { UInt8(0xA0 + $0 / 2) }
    static let secret = Array("tenant-secret-acme".utf8)
    static let pipelineJSON = #"[{"id":"thumb","action":"resize","width":150,"format":"webp","quality":80}]"#

    static var frames: [(name: String, frame: Frame)] {
        let authProof = HandshakeProof.peer(
            secret: secret, role: .client, keyID: "acme", serverNonce: serverNonce, clientNonce: clientNonce)
        let serverProof = HandshakeProof.server(secret: secret, serverNonce: serverNonce, clientNonce: clientNonce)
        // 64 × "A", compressed once with zstd 1.5 (level 1) and lz4 1.9; fixed here so that another codec
        // version producing other (equally valid) bytes cannot change the vectors. ChunkTests decodes them.
        let zstdChunk: [UInt8] = [
            0x28, 0xB5, 0x2F, 0xFD, 0x20, 0x40, 0x45, 0x00, 0x00, 0x10, 0x41, 0x41, 0x01, 0x00, 0x93, 0x00, 0x16,
        ]
        let lz4Chunk: [UInt8] = [0x1F, 0x41, 0x01, 0x00, 0x27, 0x50, 0x41, 0x41, 0x41, 0x41, 0x41]
        return [
            (
                "01-hello",
                Frame(.hello(Hello(nonce: serverNonce, handshakeTimeoutMilliseconds: 5000, server: "pixelflow")))
            ),
            ("02-auth", Frame(.auth(Auth(role: .client, keyID: "acme", clientNonce: clientNonce, proof: authProof)))),
            (
                "03-auth-ok",
                Frame(
                    .authOK(
                        AuthOK(
                            serverProof: serverProof, limits: .default, heartbeatIntervalMilliseconds: 0,
                            leaseMilliseconds: 0)))
            ),
            ("04-ping", Frame(.ping(Ping(opaque: 0x0102_0304_0506_0708)))),
            ("05-pong", Frame(.pong(Pong(opaque: 0x0102_0304_0506_0708)))),
            ("06-goaway", Frame(.goAway(GoAway(code: .unauthorized, message: "authentication failed")))),
            (
                "10-submit",
                Frame(
                    stream: 1,
                    .submit(
                        Submit(
                            mode: .stream, priority: 128, deadlineMilliseconds: 30_000, idempotencyKey: "order-42",
                            webhookURL: "https://client.example/hooks/done", sourceSize: 3,
                            pipeline: ByteBuffer(string: pipelineJSON))))
            ),
            (
                "10-submit-async",
                Frame(
                    stream: 3,
                    .submit(Submit(mode: .async, sourceSize: 1_048_576, pipeline: ByteBuffer(string: pipelineJSON))))
            ),
            ("11-accepted", Frame(stream: 1, .accepted(Accepted(jobID: 7, duplicate: false)))),
            (
                "12-rejected",
                Frame(
                    stream: 1,
                    .rejected(
                        Rejected(
                            code: .rateLimited, retryAfterMilliseconds: 200,
                            message: "tenant acme is over its rate of 5 jobs/s")))
            ),
            (
                "13-variant",
                Frame(
                    stream: 1,
                    .variant(
                        VariantHeader(
                            jobID: 7, attempt: 1, variantID: "thumb", format: "webp", width: 150, height: 100, size: 3,
                            elapsedMilliseconds: 12)))
            ),
            (
                "14-job-done",
                Frame(stream: 1, .jobDone(JobDone(jobID: 7, variants: 1, attempts: 1, elapsedMilliseconds: 40)))
            ),
            (
                "15-job-failed",
                Frame(
                    stream: 1,
                    .jobFailed(
                        JobFailed(
                            jobID: 7, code: .undecodableImage, attempts: 1,
                            message: "not a JPEG, PNG, WebP, HEIF, TIFF or GIF file")))
            ),
            ("16-cancel", Frame(stream: 5, .cancel(Cancel(jobID: 7)))),
            ("17-status-request", Frame(stream: 7, .statusRequest(StatusRequest(jobID: 7)))),
            (
                "18-status",
                Frame(stream: 7, .status(JobStatus(jobID: 7, state: .running, attempts: 2, variantsDone: 1)))
            ),
            ("19-watch", Frame(stream: 9, .watch(Watch(jobID: 7)))),
            ("1e-fetch", Frame(stream: 15, .fetch(Fetch(jobID: 7)))),
            (
                "1f-jobs-request",
                Frame(stream: 17, .jobsRequest(JobsRequest(state: .failed, limit: 50, beforeJobID: 0)))
            ),
            (
                "20-job-list",
                Frame(
                    stream: 17,
                    .jobList(
                        JobList(
                            jobs: [
                                JobList.Job(
                                    jobID: 7, tenant: "acme", state: .failed, attempts: 1, variants: 0,
                                    code: .undecodableImage, admittedAt: 1_764_621_060_000,
                                    endedAt: 1_764_621_060_250, message: "not a JPEG, PNG, WebP, HEIF, TIFF or GIF file"
                                )
                            ], nextBeforeJobID: 0)))
            ),
            ("21-usage-request", Frame(stream: 19, .usageRequest(UsageRequest(since: 1_764_547_200, limit: 500)))),
            (
                "22-usage",
                Frame(
                    stream: 19,
                    .usage(
                        UsageReport(buckets: [
                            .init(
                                tenant: "acme", hour: 1_764_619_200,
                                counts: UsageCounts(
                                    admitted: 12, succeeded: 10, failed: 1, cancelled: 1, sourcePixels: 144_000_000,
                                    bytesIn: 36_000_000, bytesOut: 2_400_000, cpuMilliseconds: 5_250))
                        ])))
            ),
            ("1a-workers-request", Frame(stream: 11, .workersRequest(WorkersRequest()))),
            (
                "1b-workers",
                Frame(
                    stream: 11,
                    .workers(
                        WorkerList(workers: [
                            .init(
                                name: "w1", address: "127.0.0.1:50412", slots: 2, busy: 1, done: 120, failed: 3,
                                lastHeartbeatMillisecondsAgo: 250)
                        ])))
            ),
            ("1c-stats-request", Frame(stream: 13, .statsRequest(StatsRequest()))),
            (
                "1d-stats",
                Frame(
                    stream: 13,
                    .stats(
                        Stats(
                            total: .init(queued: 4, running: 2, admitted: 100, rejected: 40, succeeded: 93, failed: 1),
                            workers: 2,
                            tenants: [
                                .init(
                                    name: "acme",
                                    counters: .init(
                                        queued: 4, running: 2, admitted: 100, rejected: 40, succeeded: 93, failed: 1))
                            ])))
            ),
            (
                "30-register",
                Frame(
                    .register(
                        Register(name: "w1", slots: 2, formats: [.jpeg, .png, .webp, .avif, .heic], version: "1.0.0")))
            ),
            ("31-registered", Frame(.registered(Registered(workerID: 1)))),
            (
                "32-assign",
                Frame(
                    stream: 2,
                    .assign(
                        Assign(
                            taskID: 7, attempt: 1, leaseMilliseconds: 10_000, timeLimitMilliseconds: 30_000,
                            sourceSize: 3, pipeline: ByteBuffer(string: pipelineJSON))))
            ),
            (
                "33-task-done",
                Frame(stream: 2, .taskDone(TaskDone(taskID: 7, attempt: 1, variants: 1, elapsedMilliseconds: 35)))
            ),
            (
                "33-task-done-v2",
                Frame(
                    stream: 2,
                    .taskDone(
                        TaskDone(
                            taskID: 7, attempt: 1, variants: 1, elapsedMilliseconds: 35,
                            usage: TaskUsage(cpuMilliseconds: 31, sourcePixels: 12_000_000))))
            ),
            (
                "33-task-done-timings-v2",
                Frame(
                    stream: 2,
                    .taskDone(
                        TaskDone(
                            taskID: 7, attempt: 1, variants: 1, elapsedMilliseconds: 35,
                            usage: TaskUsage(cpuMilliseconds: 31, sourcePixels: 12_000_000), decodeMilliseconds: 21)))
            ),
            (
                "34-task-failed-v2",
                Frame(
                    stream: 2,
                    .taskFailed(
                        TaskFailed(
                            taskID: 7, attempt: 1, code: .timeout, permanent: false,
                            message: "the task took longer than its time limit of 30000 ms",
                            usage: TaskUsage(cpuMilliseconds: 29_870, sourcePixels: 24_000_000))))
            ),
            (
                "34-task-failed",
                Frame(
                    stream: 2,
                    .taskFailed(
                        TaskFailed(
                            taskID: 7, attempt: 1, code: .imageTooLarge, permanent: true,
                            message: "65535x65535 is over the 50 MP limit")))
            ),
            (
                "30-register-objects-v2",
                Frame(
                    .register(
                        Register(
                            name: "w1", slots: 2, formats: [.jpeg, .png, .webp, .avif, .heic, .objects],
                            version: "1.0.0")))
            ),
            (
                "30-register-timings-v2",
                Frame(
                    .register(
                        Register(
                            name: "w1", slots: 2, formats: [.jpeg, .png, .webp, .avif, .heic, .objects, .timings],
                            version: "1.0.0")))
            ),
            (
                "38-assign-object",
                Frame(
                    stream: 2,
                    .assignObject(
                        AssignObject(
                            taskID: 7, attempt: 1, leaseMilliseconds: 10_000, timeLimitMilliseconds: 30_000,
                            sourceSize: 3, sourceURL: "http://127.0.0.1:9000/b/acme/7/source?X-Amz-Signature=ab",
                            pipeline: ByteBuffer(string: pipelineJSON),
                            outputs: [
                                .init(
                                    variantID: "thumb",
                                    putURL: "http://127.0.0.1:9000/b/acme/7/thumb.webp?X-Amz-Signature=cd")
                            ])))
            ),
            (
                "39-variant-stored",
                Frame(
                    stream: 2,
                    .variantStored(
                        VariantStored(
                            VariantHeader(
                                jobID: 7, attempt: 1, variantID: "thumb", format: "webp", width: 150, height: 100,
                                size: 3, elapsedMilliseconds: 12))))
            ),
            ("35-heartbeat", Frame(.heartbeat(Heartbeat(freeSlots: 1, tasks: [.init(taskID: 7, attempt: 1)])))),
            ("36-drain", Frame(.drain(Drain(deadlineMilliseconds: 30_000)))),
            ("37-cancel-task", Frame(stream: 2, .cancelTask(CancelTask(taskID: 7, attempt: 1)))),
            ("40-chunk", Frame(stream: 1, .chunk(Chunk(raw: ByteBuffer(bytes: [0xFF, 0xD8, 0xFF]), isLast: true)))),
            (
                "40-chunk-zstd",
                Frame(
                    stream: 1,
                    .chunk(Chunk(encoded: ByteBuffer(bytes: zstdChunk), codec: .zstd, decodedSize: 64, isLast: false)))
            ),
            (
                "40-chunk-lz4",
                Frame(
                    stream: 1,
                    .chunk(Chunk(encoded: ByteBuffer(bytes: lz4Chunk), codec: .lz4, decodedSize: 64, isLast: true)))
            ),
        ]
    }

    /// The prefaces: a v1-only peer's, the coordinator's choice of v1 and its refusal as a v1 coordinator; a
    /// v1-and-v2 peer's (what this implementation sends) and the choice of v2.
    static let prefaces: [(name: String, preface: Preface)] = [
        ("00-preface-peer", Preface(minVersion: 1, maxVersion: 1)),
        ("00-preface-coordinator", Preface.chosen(1)),
        ("00-preface-refused", Preface(minVersion: 0, maxVersion: 1)),
        ("00-preface-peer-v2", Preface(minVersion: 1, maxVersion: 2)),
        ("00-preface-coordinator-v2", Preface.chosen(2)),
    ]
}
