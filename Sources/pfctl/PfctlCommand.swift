import ArgumentParser
import Foundation
import PixelFlowBatch

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
            FetchCommand.self, JobsCommand.self, UsageCommand.self,
            WorkersCommand.self, StatsCommand.self, TopCommand.self, BenchCommand.self, DecodeCommand.self,
        ]
    )

    /// Usage errors exit with 2, like `pixelflow process`.
    static func main() async {
        await runExitingTwoOnUsageError()
    }
}
