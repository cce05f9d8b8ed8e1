import ArgumentParser

@main
struct PfctlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pfctl",
        abstract: "Operate and use a PixelFlow cluster.",
        subcommands: [DecodeCommand.self]
    )
}
