import NIOCore
import PixelFlowProtocol
import Testing

@testable import PixelFlowClient

/// The per-stream state machine, pure: frames in, outcomes out.
@Suite struct ClientStreamStateTests {
    static func stream(_ kind: RequestKind) -> ClientStreamState {
        ClientStreamState(kind: kind, sink: AsyncThrowingStream<StreamEvent, any Error>.makeStream().continuation)
    }

    static func header(size: UInt64) -> Message {
        .variant(
            VariantHeader(
                jobID: 5, attempt: 2, variantID: "thumb", format: "webp", width: 150, height: 90, size: size,
                elapsedMilliseconds: 11))
    }

    static func chunk(_ bytes: [UInt8], last: Bool) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    static let limit: UInt64 = 1_000

    @Test func streamModeJobReassemblesVariants() {
        var state = Self.stream(.submitStream)
        guard
            case .deliver(.accepted(let accepted)) = state.receive(
                .accepted(Accepted(jobID: 5)), maxVariantBytes: Self.limit)
        else {
            Issue.record("ACCEPTED should be delivered")
            return
        }
        #expect(accepted.jobID == 5)
        guard case .none = state.receive(Self.header(size: 10), maxVariantBytes: Self.limit) else {
            Issue.record("VARIANT waits for its bytes"); return
        }
        guard case .none = state.receiveChunk(ByteBuffer(bytes: [1, 2, 3, 4]), isLast: false) else {
            Issue.record("partial"); return
        }
        guard
            case .deliver(.variant(let variant)) = state.receiveChunk(
                ByteBuffer(bytes: [5, 6, 7, 8, 9, 10]), isLast: true)
        else {
            Issue.record("the END chunk completes the variant")
            return
        }
        #expect(
            variant
                == Variant(
                    id: "thumb", format: "webp", width: 150, height: 90, bytes: Array(1...10), elapsedMilliseconds: 11,
                    attempt: 2))
        guard
            case .finish(.success(.jobDone(let done))) = state.receive(
                .jobDone(JobDone(jobID: 5, variants: 1, attempts: 2, elapsedMilliseconds: 30)),
                maxVariantBytes: Self.limit)
        else {
            Issue.record("JOB_DONE ends the stream")
            return
        }
        #expect(done.attempts == 2)
    }

    @Test func emptyVariantIsOneEndChunk() {
        var state = Self.stream(.submitStream)
        _ = state.receive(.accepted(Accepted(jobID: 1)), maxVariantBytes: Self.limit)
        _ = state.receive(Self.header(size: 0), maxVariantBytes: Self.limit)
        guard case .deliver(.variant(let variant)) = state.receiveChunk(ByteBuffer(), isLast: true) else {
            Issue.record("empty variant"); return
        }
        #expect(variant.bytes.isEmpty)
    }

    @Test func rejectionBeforeAcceptanceIsTyped() {
        var state = Self.stream(.submitStream)
        let outcome = state.receive(
            .rejected(Rejected(code: .queueFull, retryAfterMilliseconds: 1_500, message: "full")),
            maxVariantBytes: Self.limit)
        guard case .finish(.failure(let error)) = outcome else { Issue.record("REJECTED fails the request"); return }
        #expect(error.code == .rejected && error.rejectionReason == .queueFull)
        #expect(error.retryAfter == .milliseconds(1_500))
    }

    @Test func watchDropsRelayedVariants() {
        var state = Self.stream(.watch)
        guard case .none = state.receive(Self.header(size: 3), maxVariantBytes: Self.limit),
            case .none = state.receiveChunk(ByteBuffer(bytes: [1, 2, 3]), isLast: true)
        else {
            Issue.record("a WATCH reads relayed variants without delivering them")
            return
        }
        guard
            case .finish(.failure(let error)) = state.receive(
                .jobFailed(JobFailed(jobID: 3, code: .retriesExhausted, attempts: 4, message: "gave up")),
                maxVariantBytes: Self.limit)
        else {
            Issue.record("JOB_FAILED ends a WATCH")
            return
        }
        #expect(error.code == .other && error.jobID == JobID(3))
        #expect(error.name == "retries_exhausted" && error.protocolCode == "retries_exhausted")
    }

    @Test(arguments: [
        "variant before accepted", "chunk without variant", "chunks over size", "end below size", "done mid-variant",
        "rejected after accepted", "status on stats stream", "variant over limit",
    ])
    func violations(_ scenario: String) {
        var state = Self.stream(scenario == "status on stats stream" ? .stats : .submitStream)
        let outcome: ClientStreamState.Outcome
        switch scenario {
        case "variant before accepted":
            outcome = state.receive(Self.header(size: 3), maxVariantBytes: Self.limit)
        case "chunk without variant":
            _ = state.receive(.accepted(Accepted(jobID: 1)), maxVariantBytes: Self.limit)
            outcome = state.receiveChunk(ByteBuffer(bytes: [1]), isLast: true)
        case "chunks over size":
            _ = state.receive(.accepted(Accepted(jobID: 1)), maxVariantBytes: Self.limit)
            _ = state.receive(Self.header(size: 3), maxVariantBytes: Self.limit)
            outcome = state.receiveChunk(ByteBuffer(bytes: [1, 2, 3, 4]), isLast: false)
        case "end below size":
            _ = state.receive(.accepted(Accepted(jobID: 1)), maxVariantBytes: Self.limit)
            _ = state.receive(Self.header(size: 3), maxVariantBytes: Self.limit)
            outcome = state.receiveChunk(ByteBuffer(bytes: [1, 2]), isLast: true)
        case "done mid-variant":
            _ = state.receive(.accepted(Accepted(jobID: 1)), maxVariantBytes: Self.limit)
            _ = state.receive(Self.header(size: 3), maxVariantBytes: Self.limit)
            outcome = state.receive(
                .jobDone(JobDone(jobID: 1, variants: 1, attempts: 1, elapsedMilliseconds: 1)),
                maxVariantBytes: Self.limit)
        case "rejected after accepted":
            _ = state.receive(.accepted(Accepted(jobID: 1)), maxVariantBytes: Self.limit)
            outcome = state.receive(
                .rejected(Rejected(code: .rateLimited, message: "late")), maxVariantBytes: Self.limit)
        case "status on stats stream":
            outcome = state.receive(
                .status(JobStatus(jobID: 1, state: .queued, attempts: 0, variantsDone: 0)), maxVariantBytes: Self.limit)
        default:
            _ = state.receive(.accepted(Accepted(jobID: 1)), maxVariantBytes: Self.limit)
            outcome = state.receive(Self.header(size: Self.limit + 1), maxVariantBytes: Self.limit)
        }
        guard case .violation(let message) = outcome else {
            Issue.record("\(scenario): expected a protocol violation, got \(outcome)")
            return
        }
        #expect(!message.isEmpty)
    }
}

@Suite struct SubmitFrameTests {
    @Test func submitFrameSizeIsCheckedExactly() throws {
        let pipeline = String(repeating: "x", count: 50)
        let options = SubmitOptions(idempotencyKey: "key-1", webhookURL: "https://h/")
        let encoded = Frame(
            stream: 1,
            .submit(
                Submit(
                    idempotencyKey: "key-1", webhookURL: "https://h/", sourceSize: 3,
                    pipeline: ByteBuffer(string: pipeline))))
        var limits = ProtocolLimits.default
        limits.maxControlPayload = UInt32(encoded.bytes.readableBytes - 12)
        let submit = try PixelFlowClient.makeSubmit(
            mode: .async, source: [1, 2, 3], pipeline: pipeline, options: options, limits: limits)
        #expect(submit.mode == .async && submit.sourceSize == 3 && submit.idempotencyKey == "key-1")
        limits.maxControlPayload -= 1
        let error = #expect(throws: PixelFlowClientError.self) {
            _ = try PixelFlowClient.makeSubmit(
                mode: .async, source: [1, 2, 3], pipeline: pipeline, options: options, limits: limits)
        }
        #expect(error?.code == .invalidPipeline)
    }
}

@Suite struct PixelFlowClientErrorTests {
    typealias Code = PixelFlowClientError.Code

    @Test func wireCodesMapToTypedCodes() {
        let cases: [(ErrorCode, Code, PixelFlowClientError.RejectionReason?)] = [
            (.rateLimited, .rejected, .rateLimited), (.queueFull, .rejected, .queueFull),
            (.tooManyInFlight, .rejected, .tooManyInFlight), (.unavailable, .rejected, .unavailable),
            (.shuttingDown, .rejected, .shuttingDown),
            (.invalidPipeline, .invalidPipeline, nil), (.sourceTooLarge, .sourceTooLarge, nil),
            (.undecodableImage, .undecodableImage, nil), (.imageTooLarge, .imageTooLarge, nil),
            (.unsupportedFormat, .unsupportedFormat, nil), (.unauthorized, .unauthorized, nil),
            (.timeout, .timeout, nil), (.handshakeTimeout, .timeout, nil), (.cancelled, .cancelled, nil),
            (.notFound, .notFound, nil), (.compressionError, .protocolViolation, nil), (.internal, .other, nil),
            (ErrorCode(rawValue: 999), .other, nil),
        ]
        for (wire, code, reason) in cases {
            let error = PixelFlowClientError(wire: wire, message: "m", retryAfterMilliseconds: 200)
            #expect(error.code == code, "\(wire)")
            #expect(error.rejectionReason == reason, "\(wire)")
            #expect(error.retryAfter == (reason == nil ? nil : .milliseconds(200)), "only rejections carry a delay")
            #expect(error.protocolCode == wire.name)
        }
        #expect(PixelFlowClientError(wire: .rateLimited, message: "").retryAfter == nil)
        #expect(
            PixelFlowClientError(wire: .rateLimited, message: "slow", retryAfterMilliseconds: 50).description
                == "rate_limited: slow (retry after 0.05 seconds)")
        #expect(PixelFlowClientError(wire: ErrorCode(rawValue: 999), message: "").name == "code_999")
    }

    @Test func namesAreTheStableSnakeCaseOnes() {
        #expect(PixelFlowClientError(wire: .queueFull, message: "").name == "queue_full")
        #expect(PixelFlowClientError(wire: .frameTooLarge, message: "").name == "protocol_error")
        #expect(PixelFlowClientError(wire: .deadlineExceeded, message: "").name == "deadline_exceeded")
        #expect(PixelFlowClientError.connectionLost("gone").name == "connection_lost")
        #expect(PixelFlowClientError.connectionLost("gone").protocolCode == nil)
        #expect(PixelFlowClientError(.other, "made by hand").name == "other")
        #expect(Code.protocolViolation.description == "protocol_error" && Code.notFound.description == "not_found")
    }

    @Test func retryableFailuresAreTheTransientOnes() {
        for wire in [ErrorCode.rateLimited, .queueFull, .timeout, .idleTimeout, .loginThrottled] {
            #expect(PixelFlowClientError(wire: wire, message: "").isRetryable, "\(wire)")
        }
        for wire in [ErrorCode.invalidPipeline, .undecodableImage, .notFound, .internal, .unauthorized] {
            #expect(!PixelFlowClientError(wire: wire, message: "").isRetryable, "\(wire)")
        }
        #expect(PixelFlowClientError.connectionLost("gone").isRetryable)
    }

    @Test func publicInitialisersMakeWhatTheWireWould() {
        let made = PixelFlowClientError(rejected: .rateLimited, "over 5/s", retryAfter: .milliseconds(250))
        let received = PixelFlowClientError(wire: .rateLimited, message: "over 5/s", retryAfterMilliseconds: 250)
        #expect(made == received)
        #expect(PixelFlowClientError(.notFound, "no job 4", jobID: JobID(4)).jobID == JobID(4))
    }

    @Test func codesSwitchLikeEnumCases() {
        func kind(_ error: PixelFlowClientError) -> String {
            switch error.code {
            case .rejected: "busy"
            case .invalidPipeline: "fix the pipeline"
            default: "give up"
            }
        }
        #expect(kind(PixelFlowClientError(wire: .queueFull, message: "")) == "busy")
        #expect(kind(PixelFlowClientError(wire: .invalidPipeline, message: "")) == "fix the pipeline")
        #expect(kind(PixelFlowClientError(wire: .internal, message: "")) == "give up")
    }
}
