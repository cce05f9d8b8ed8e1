import ArgumentParser
import Foundation
import PixelFlowBatch
import PixelFlowClient

/// Flags every cluster command shares. Each falls back to its environment variable.
struct ConnectionOptions: ParsableArguments {
    static let defaultCoordinator = "127.0.0.1:7400"

    @Option(
        help: ArgumentHelp(
            "Coordinator address (default: $PIXELFLOW_COORDINATOR, else \(defaultCoordinator)).", valueName: "HOST:PORT"
        ))
    var coordinator: String?

    @Option(
        name: .customLong("key-id"), help: ArgumentHelp("Tenant key id (default: $PIXELFLOW_KEY_ID).", valueName: "ID"))
    var keyID: String?

    @Option(help: ArgumentHelp("Tenant secret (default: $PIXELFLOW_SECRET).", valueName: "SECRET"))
    var secret: String?

    @OptionGroup var tls: TLSOptions

    @Flag(help: "Print JSON for scripts instead of text.")
    var json = false

    /// Where to connect and as whom, flags first, then the environment.
    struct Resolved: Equatable {
        var host: String
        var port: Int
        var keyID: String
        var secret: String
    }

    func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ValidationError) -> Resolved {
        let address =
            coordinator ?? environment["PIXELFLOW_COORDINATOR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.defaultCoordinator
        let (host, port) = try Self.parse(address: address)
        guard let keyID = keyID ?? environment["PIXELFLOW_KEY_ID"], !keyID.isEmpty else {
            throw ValidationError("no key id: pass --key-id or set PIXELFLOW_KEY_ID")
        }
        guard let secret = secret ?? environment["PIXELFLOW_SECRET"], !secret.isEmpty else {
            throw ValidationError("no secret: pass --secret or set PIXELFLOW_SECRET")
        }
        return Resolved(host: host, port: port, keyID: keyID, secret: secret)
    }

    /// `HOST:PORT`, with `[v6]:PORT` for IPv6 literals.
    static func parse(address: String) throws(ValidationError) -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (1...65_535).contains(port)
        else {
            throw ValidationError("--coordinator must be HOST:PORT, got \"\(address)\"")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--coordinator must be HOST:PORT, got \"\(address)\"") }
        return (host, port)
    }

    /// Connects, runs `body`, and turns a client error into a message (text or JSON) and exit status 1.
    func withClient<Result: Sendable>(
        command: String, _ body: (PixelFlowClient) async throws -> Result
    ) async throws -> Result {
        let target = try resolve()
        var configuration = PixelFlowClient.Configuration()
        configuration.tls = try tls.clientTLS()
        do {
            return try await PixelFlowClient.withConnection(
                to: target.host, port: target.port, keyID: target.keyID, secret: target.secret,
                configuration: configuration, body)
        } catch let error as PixelFlowClientError {
            report(error, command: command)
            throw ExitCode(1)
        }
    }

    /// `count` connections at once (each its own client), for load that one connection's ordering would cap.
    func withClients<Result: Sendable>(
        count: Int, command: String, _ body: ([PixelFlowClient]) async throws -> Result
    ) async throws -> Result {
        func open(_ opened: [PixelFlowClient]) async throws -> Result {
            guard opened.count < count else { return try await body(opened) }
            return try await withClient(command: command) { client in try await open(opened + [client]) }
        }
        return try await open([])
    }

    func report(_ error: PixelFlowClientError, command: String) {
        if json {
            print(JSONOutput.error(error))
        } else {
            FileHandle.standardError.write(Data("pfctl \(command): \(error)\n".utf8))
        }
    }
}

/// `--pipeline FILE | --variant SPEC ...`, as `pixelflow process` takes them.
struct PipelineOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A job JSON file: an object with \"pipeline\", or a bare array of variants.", valueName: "FILE"))
    var pipeline: String?

    @Option(
        name: .customLong("variant"),
        help: ArgumentHelp(
            "One variant in compact form (ID:ACTION:SIZE:FORMAT[:KEY=VALUE]...); repeat for more.", valueName: "SPEC"))
    var variants: [String] = []
}
