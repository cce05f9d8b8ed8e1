import ArgumentParser
import Foundation
import NIOCore
import PixelFlowCompression
import PixelFlowProtocol

/// Frame encode/decode throughput and zstd/lz4 speed and ratio on real image bytes.
struct CodecBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract:
            "Frame codec and payload compression throughput (run in release: swift run -c release pixelflow-bench codec DIR)."
    )

    @Argument(help: "Corpus folder (../shared/corpus.sh DIR builds one).")
    var corpus: String

    @Option(help: "Runs per figure; the median is reported.")
    var runs: Int = 3

    @Option(help: "Control frames encoded and decoded per run.")
    var frames: Int = 1_000_000

    func run() throws {
        let corpus = try Corpus(directory: corpus)
        print("# PixelFlow codec benchmark")
        print("machine: \(machineDescription()); \(corpus.images.count) images; median of \(runs) runs\n")
        try controlFrames()
        try chunkFrames(corpus)
        compression(corpus)
    }

    /// Small frames: what the coordinator handles per job besides the image bytes.
    private func controlFrames() throws {
        let pipeline = ByteBuffer(
            string: #"[{"id":"thumb","action":"resize","width":150,"format":"webp","quality":80}]"#)
        let samples: [(String, Frame)] = [
            ("SUBMIT", Frame(stream: 1, .submit(Submit(sourceSize: 500_000, pipeline: pipeline)))),
            (
                "VARIANT",
                Frame(
                    stream: 1,
                    .variant(
                        VariantHeader(
                            jobID: 7, attempt: 1, variantID: "thumb", format: "webp", width: 150, height: 100,
                            size: 4_000, elapsedMilliseconds: 12)))
            ),
            ("HEARTBEAT", Frame(.heartbeat(Heartbeat(freeSlots: 1, tasks: [.init(taskID: 7, attempt: 1)])))),
        ]
        print("| control frame | bytes | encode frames/s | decode frames/s |")
        print("|---|---:|---:|---:|")
        for (name, frame) in samples {
            var buffer = ByteBuffer()
            buffer.reserveCapacity(frames * (frame.bytes.readableBytes + 1))
            let encode = median(
                (0..<runs).map { _ in
                    buffer.clear()
                    return measure { for _ in 0..<frames { frame.write(to: &buffer) } }
                })
            let decode = try median(
                (0..<runs).map { _ in
                    var input = buffer
                    var decoder = FrameDecoder(from: [.client, .worker, .coordinator], expectingPreface: false)
                    var count = 0
                    let seconds = try measure { while try decoder.decode(buffer: &input) != nil { count += 1 } }
                    precondition(count == frames)
                    return seconds
                })
            print(
                "| \(name) | \(frame.bytes.readableBytes) | \(rate(Double(frames) / encode)) | \(rate(Double(frames) / decode)) |"
            )
        }
        print()
    }

    /// 256 KiB raw chunks of real images: the framing cost on bulk data.
    private func chunkFrames(_ corpus: Corpus) throws {
        let chunkSize = Int(ProtocolLimits.default.maxChunkData)
        var input = ByteBuffer()
        var bytes = 0
        for image in corpus.images {
            var offset = 0
            while offset < image.bytes.count {
                let piece = image.bytes[offset..<min(offset + chunkSize, image.bytes.count)]
                offset += piece.count
                Frame(stream: 1, .chunk(Chunk(raw: ByteBuffer(bytes: piece), isLast: offset == image.bytes.count)))
                    .write(to: &input)
                bytes += piece.count
            }
        }
        let seconds = try median(
            (0..<runs).map { _ in
                var copy = input
                var decoder = FrameDecoder(from: [.client], expectingPreface: false)
                return try measure { while try decoder.decode(buffer: &copy) != nil {} }
            })
        print(
            "CHUNK decode (raw, 256 KiB, whole corpus): \(String(format: "%.1f", Double(bytes) / seconds / 1e9)) GB/s\n"
        )
    }

    /// Per format: ratio and speed of each codec on 256 KiB chunks, and what the automatic policy picks.
    private func compression(_ corpus: Corpus) {
        let chunkSize = Int(ProtocolLimits.default.maxChunkData)
        print("| source format | codec | wire/raw | compress MB/s | decompress MB/s | auto policy sends |")
        print("|---|---|---:|---:|---:|---|")
        for (format, images) in corpus.byFormat {
            let chunks: [[UInt8]] = images.flatMap { image in
                stride(from: 0, to: image.bytes.count, by: chunkSize).map {
                    Array(image.bytes[$0..<min($0 + chunkSize, image.bytes.count)])
                }
            }
            let raw = chunks.reduce(0) { $0 + $1.count }
            for codec in [PayloadCodec.zstd, .lz4] {
                var compressed: [[UInt8]] = []
                let compressTime = median(
                    (0..<runs).map { _ in
                        measure {
                            compressed = chunks.map { chunk in chunk.withUnsafeBytes { try! codec.compress($0) } }
                        }
                    })
                let decompressTime = median(
                    (0..<runs).map { _ in
                        measure {
                            for (index, chunk) in compressed.enumerated() {
                                _ = chunk.withUnsafeBytes {
                                    try! codec.decompress($0, declaredSize: chunks[index].count, limit: chunkSize)
                                }
                            }
                        }
                    })
                let wire = compressed.reduce(0) { $0 + $1.count }
                print(
                    "| \(format) | \(codec) | \(String(format: "%.3f", Double(wire) / Double(raw))) | \(Int(Double(raw) / compressTime / 1e6)) | \(Int(Double(raw) / decompressTime / 1e6)) | \(autoPolicy(images, codec: codec)) |"
                )
            }
        }
        print()
    }

    /// How many of the format's images the automatic policy compresses, and the resulting wire/raw ratio.
    private func autoPolicy(_ images: [Corpus.Image], codec: PayloadCodec) -> String {
        let chunkSize = Int(ProtocolLimits.default.maxChunkData)
        var compressedImages = 0
        var wire = 0
        var raw = 0
        for image in images {
            var compressor = PayloadCompressor(codec: codec)
            var usedCodec = false
            for start in stride(from: 0, to: image.bytes.count, by: chunkSize) {
                let chunk = Array(image.bytes[start..<min(start + chunkSize, image.bytes.count)])
                let encoded = chunk.withUnsafeBytes { compressor.encode($0) }
                usedCodec = usedCodec || encoded != nil
                wire += encoded?.bytes.count ?? chunk.count
                raw += chunk.count
            }
            if usedCodec { compressedImages += 1 }
        }
        return
            "\(compressedImages)/\(images.count) compressed, wire/raw \(String(format: "%.3f", Double(wire) / Double(raw)))"
    }

    private func rate(_ perSecond: Double) -> String {
        perSecond >= 1e6 ? String(format: "%.2f M", perSecond / 1e6) : String(format: "%.0f k", perSecond / 1e3)
    }
}
