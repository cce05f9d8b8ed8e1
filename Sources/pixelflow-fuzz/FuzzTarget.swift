import NIOCore
import PixelFlowProtocol

/// libFuzzer entry points over the code that reads untrusted bytes: the frame decoder, the coordinator's
/// handshake, and payload assembly from chunks. The first input byte picks the target. Built only by
/// `fuzz/run.sh` (with `-sanitize=fuzzer -DFUZZING`); a plain build gets a stub that says how to run it.
enum FuzzTarget {
    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let selector = bytes.first else { return }
        let input = ByteBuffer(bytes: bytes.dropFirst())
        switch selector % 3 {
        case 0: decodeFrames(input)
        case 1: handshake(input)
        default: assemble(input)
        }
    }

    /// Every frame the coordinator could be sent, decoded until the decoder wants more or refuses.
    static func decodeFrames(_ input: ByteBuffer) {
        var buffer = input
        var decoder = FrameDecoder(from: [.client, .worker], expectingPreface: false)
        while let element = try? decoder.decode(buffer: &buffer) {
            if case .frame(let frame) = element, case .chunk(let chunk) = frame.message { _ = try? chunk.decoded() }
        }
    }

    /// The server handshake fed whatever the decoder makes of the input, preface included.
    static func handshake(_ input: ByteBuffer) {
        var buffer = input
        var decoder = FrameDecoder(from: [.client, .worker])
        let secrets = StaticSecrets([.init(keyID: "acme", role: .client): Array("tenant-secret-acme".utf8)])
        var machine = ServerHandshakeStateMachine(secrets: secrets, nonce: [UInt8](repeating: 7, count: 32))
        while let element = try? decoder.decode(buffer: &buffer) {
            if case .fail = machine.receive(element) { return }
        }
        _ = machine.deadlineExpired()
    }

    /// A payload of the declared size (first 3 bytes) from the chunks that decode out of the rest.
    static func assemble(_ input: ByteBuffer) {
        var buffer = input
        guard let size = buffer.readInteger(as: UInt16.self) else { return }
        var assembler = PayloadAssembler(expected: Int(size) * 16, reserveLimit: 4096)
        var decoder = FrameDecoder(from: [.client, .worker, .coordinator], expectingPreface: false)
        while let element = try? decoder.decode(buffer: &buffer) {
            guard case .frame(let frame) = element, case .chunk(let chunk) = frame.message else { continue }
            guard let complete = try? assembler.add(chunk), !complete else { return }
        }
    }
}

#if FUZZING
import Glibc

/// libFuzzer's driver, called from our own main: SwiftPM links executables with their module's main as `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
struct FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(
            runFuzzerDriver(&argc, &argv) { data, size in
                FuzzTarget.run(UnsafeRawBufferPointer(start: data, count: size))
                return 0
            })
    }
}
#else
@main
struct FuzzStub {
    static func main() {
        print(
            "pixelflow-fuzz is a libFuzzer target: run fuzz/run.sh SECONDS to build it with -sanitize=fuzzer and fuzz it."
        )
    }
}
#endif
