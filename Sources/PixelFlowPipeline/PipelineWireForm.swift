import Foundation

extension PipelineDecoder {
    /// The pipeline as SUBMIT and ASSIGN carry it (proto/PROTOCOL.md §6.3): a bare JSON array of variants.
    /// The job-object form that `decode(json:)` also takes is for files, not the wire.
    public static func decode(wire json: Data) throws(PipelineError) -> Pipeline {
        guard let first = json.first(where: { !" \t\r\n".utf8.contains($0) }), first == UInt8(ascii: "[") else {
            throw PipelineError(field: "pipeline", "must be a JSON array of variants")
        }
        return try decode(json: json)
    }
}
