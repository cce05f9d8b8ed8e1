import ArgumentParser

@main
struct PixelFlowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pixelflow",
        abstract: "PixelFlow: an image-processing cluster.",
        subcommands: [ProcessCommand.self]
    )
}
