import ArgumentParser
import Foundation

@main
struct PfctlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pfctl",
        abstract: "Operate and use a PixelFlow cluster.",
        discussion: """
            Connection flags default to PIXELFLOW_COORDINATOR, PIXELFLOW_KEY_ID and PIXELFLOW_SECRET (`pixelflow dev` \
            prints the export lines). Exit status: 0 on success, 1 when a request or any source failed, 2 on a usage error.
            """,
        subcommands: [
            ClusterProcessCommand.self, SubmitCommand.self, StatusCommand.self, WaitCommand.self, CancelCommand.self,
            WorkersCommand.self, StatsCommand.self, BenchCommand.self, DecodeCommand.self,
        ]
    )

    /// ArgumentParser reports usage errors with status 64; pfctl promises 2, like `pixelflow process`.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
