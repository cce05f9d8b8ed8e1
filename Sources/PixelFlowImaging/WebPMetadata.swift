/// Removes metadata chunks from an encoded WebP file.
///
/// libvips 8.14 writes EXIF into WebP even with `strip` (libvips#3340): its EXIF updater rebuilds a block
/// from the image header when none is attached, so removing fields before saving is not enough. Dropping
/// the `EXIF`, `XMP ` and `ICCP` chunks from the RIFF container (and their VP8X flags) is exact.
enum WebPMetadata {
    private static let metadataChunks: Set<String> = ["EXIF", "XMP ", "ICCP"]
    /// VP8X flag bits: ICC 0x20, EXIF 0x08, XMP 0x04.
    private static let metadataFlags: UInt8 = 0x20 | 0x08 | 0x04

    /// Returns `data` without metadata chunks; returns it unchanged if it is not a well-formed WebP.
    static func stripped(_ data: [UInt8]) -> [UInt8] {
        guard data.count >= 12, fourCC(data, 0) == "RIFF", fourCC(data, 8) == "WEBP" else { return data }
        var output = Array(data[0..<12])
        var offset = 12
        while offset + 8 <= data.count {
            let tag = fourCC(data, offset)
            let size = Int(littleEndian32(data, offset + 4))
            let padded = size + (size & 1)
            guard offset + 8 + padded <= data.count else { return data }
            if !metadataChunks.contains(tag) {
                var chunk = data[offset..<offset + 8 + padded]
                if tag == "VP8X", size >= 1 { chunk[offset + 8] &= ~metadataFlags }
                output.append(contentsOf: chunk)
            }
            offset += 8 + padded
        }
        guard offset == data.count else { return data }
        let riffSize = UInt32(output.count - 8)
        for index in 0..<4 { output[4 + index] = UInt8(truncatingIfNeeded: riffSize >> (8 * UInt32(index))) }
        return output
    }

    private static func fourCC(_ data: [UInt8], _ offset: Int) -> String {
        String(decoding: data[offset..<offset + 4], as: UTF8.self)
    }

    private static func littleEndian32(_ data: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(data[offset + $1]) << (8 * UInt32($1)) }
    }
}
