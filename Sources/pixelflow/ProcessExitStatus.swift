import ArgumentParser
import Foundation
import PixelFlowImaging

extension PixelFlowCommand {
    /// ArgumentParser reports usage errors with status 64; `pixelflow process` promises 2 (as most
    /// command-line tools do), so map that one status and leave the rest to ArgumentParser.
    static func main() async {
        MemoryTuning.limitMallocArenas()
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
