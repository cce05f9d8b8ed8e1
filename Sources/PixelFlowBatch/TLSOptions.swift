import ArgumentParser
import Foundation
import PixelFlowTLS

/// `--ca`, `--cert`, `--key`: TLS to the coordinator, for every command that connects to one (pfctl, the worker).
/// Each falls back to its environment variable.
public struct TLSOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "CA certificate (PEM) the coordinator's TLS certificate must chain to; connects over TLS (default: $PIXELFLOW_CA).",
            valueName: "FILE"))
    public var ca: String?

    @Option(
        help: ArgumentHelp(
            "This side's own certificate (PEM) for mutual TLS (default: $PIXELFLOW_CERT).", valueName: "FILE"))
    public var cert: String?

    @Option(help: ArgumentHelp("The key of --cert (PEM; default: $PIXELFLOW_KEY).", valueName: "FILE"))
    public var key: String?

    public init() {}

    /// TLS as the flags, then the environment, ask for it; nil: plain TCP (no CA given).
    public func clientTLS(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ValidationError) -> ClientTLS? {
        let given = { (name: String) in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let caFile = ca ?? given("PIXELFLOW_CA") else { return nil }
        do {
            return try ClientTLS(
                caFile: caFile, certificateFile: cert ?? given("PIXELFLOW_CERT"), keyFile: key ?? given("PIXELFLOW_KEY")
            )
        } catch {
            throw ValidationError("TLS: \(error)")
        }
    }
}
