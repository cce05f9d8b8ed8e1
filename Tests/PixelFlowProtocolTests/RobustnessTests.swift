import NIOCore
import Testing

@testable import PixelFlowProtocol

/// A small, seeded generator so a failing case can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Robustness against random and mutated frames")
struct RobustnessTests {
    static let iterations = 100_000

    @Test("100,000 random and mutated inputs: typed errors only, nothing buffered or decoded beyond the limits")
    func randomAndMutatedFrames() throws {
        var random = SplitMix64(state: 0x5EED_0001)
        var limits = ProtocolLimits()
        limits.maxControlPayload = 4096
        limits.maxChunkData = 8192
        let goldens = GoldenFrames.frames.map { Array($0.frame.bytes.readableBytesView) }
        var outcomes = (decoded: 0, rejected: 0, waiting: 0)

        for iteration in 0..<Self.iterations {
            let input: [UInt8] =
                iteration % 2 == 0
                ? Self.randomFrame(using: &random)
                : Self.mutate(goldens[Int.random(in: 0..<goldens.count, using: &random)], using: &random)
            var decoder = FrameDecoder(limits: limits, from: Set(PeerRole.allCases), expectingPreface: false)
            var buffer = ByteBuffer(bytes: input)
            do {
                while let element = try decoder.decodeElement(&buffer) {
                    outcomes.decoded += 1
                    guard case .frame(let frame) = element else { continue }
                    try Self.checkWithinLimits(frame, limits: limits)
                    // Whatever the decoder accepts must survive a round trip unchanged.
                    var again = FrameDecoder(limits: limits, from: Set(PeerRole.allCases), expectingPreface: false)
                    var encoded = frame.bytes
                    #expect(try again.decodeElement(&encoded) == element, "seed iteration \(iteration)")
                }
                // Waiting for more bytes is only allowed for a frame whose declared length is within the limit.
                if let header = try FrameHeader.peek(in: buffer), let type = FrameType(rawValue: header.type) {
                    #expect(
                        Int(header.length) <= limits.maxPayload(for: type),
                        "iteration \(iteration) buffers an oversize frame")
                }
                outcomes.waiting += 1
            } catch let error as ProtocolError {
                #expect(ErrorCode.known.contains(error.code), "iteration \(iteration): \(error)")
                outcomes.rejected += 1
            } catch {
                Issue.record("iteration \(iteration): untyped error \(error)")
            }
        }
        // The generator must exercise both paths heavily, or the test proves nothing.
        #expect(outcomes.decoded > 5_000)
        #expect(outcomes.rejected > 20_000)
    }

    static func checkWithinLimits(_ frame: Frame, limits: ProtocolLimits) throws {
        guard case .chunk(let chunk) = frame.message else { return }
        #expect(chunk.decodedSize <= Int(limits.maxChunkData))
        do {
            let bytes = try chunk.decoded()
            #expect(bytes.readableBytes == chunk.decodedSize)
        } catch {
            #expect(error.code == .compressionError)
        }
    }

    /// A header with plausible fields (known types, small lengths) most of the time, then random bytes.
    static func randomFrame(using random: inout SplitMix64) -> [UInt8] {
        let types = FrameType.allCases.map(\.rawValue) + [0x00, 0x7F, 0xFF]
        let payloadLength = Int.random(in: 0...96, using: &random)
        var bytes: [UInt8] = []
        let declared: UInt32 =
            Bool.random(using: &random) ? UInt32(payloadLength) : UInt32.random(in: 0...UInt32.max, using: &random)
        withUnsafeBytes(of: declared.bigEndian) { bytes += $0 }
        bytes.append(types.randomElement(using: &random)!)
        bytes.append(Bool.random(using: &random) ? 0 : UInt8.random(in: 0...7, using: &random))
        bytes += [0, 0]
        let stream: UInt32 = Bool.random(using: &random) ? 0 : UInt32.random(in: 1...9, using: &random)
        withUnsafeBytes(of: stream.bigEndian) { bytes += $0 }
        for _ in 0..<payloadLength { bytes.append(UInt8.random(in: 0...255, using: &random)) }
        return bytes
    }

    /// Flips, overwrites, inserts, deletes or truncates bytes of a valid frame; sometimes several times.
    static func mutate(_ frame: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var bytes = frame
        for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
            let index = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0: bytes[index] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
            case 1: bytes[index] = UInt8.random(in: 0...255, using: &random)
            case 2: bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
            case 3: bytes.remove(at: index)
            case 4: bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
            default:
                // Rewrite the length field to a value near or far from the truth.
                let length = UInt32(max(bytes.count - FrameHeader.size, 0))
                let lie =
                    Bool.random(using: &random)
                    ? length &+ UInt32.random(in: 1...4, using: &random)
                    : UInt32.random(in: 0...UInt32.max, using: &random)
                if bytes.count >= 4 { withUnsafeBytes(of: lie.bigEndian) { bytes.replaceSubrange(0..<4, with: $0) } }
            }
        }
        return bytes
    }
}
