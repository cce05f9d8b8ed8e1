import ArgumentParser

@main
struct PixelFlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixelflow",
        abstract: "PixelFlow: an image-processing cluster.",
        subcommands: [
            CoordinatorCommand.self, WorkerCommand.self, DevCommand.self, ProcessCommand.self, CertsCommand.self,
        ]
    )
}
