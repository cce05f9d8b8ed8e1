import ArgumentParser
import Foundation

extension AsyncParsableCommand {
    /// Parses and runs the command line. Usage errors exit with status 2, as the command-line tools document
    /// (ArgumentParser's own choice is 64); everything else is left to ArgumentParser.
    public static func runExitingTwoOnUsageError() async {
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
