import Foundation

/// The repository's documents and the Swift code in them, so tests can check that documented code is the code
/// they compile and run.
enum DocumentedCode {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A file of the repository, by its path from the root.
    static func text(_ path: String) throws -> String {
        try String(contentsOf: repository.appendingPathComponent(path), encoding: .utf8)
    }

    /// The body of every fenced ```swift block, in order.
    static func swiftBlocks(in markdown: String) -> [String] {
        var blocks: [String] = []
        var block: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if let lines = block {
                if line == "```" {
                    blocks.append(lines.joined(separator: "\n"))
                    block = nil
                } else {
                    block = lines + [line]
                }
            } else if line == "```swift" {
                block = []
            }
        }
        return blocks
    }

    /// The lines strictly between the line containing `start` and the next one containing `end`; nil without them.
    static func region(of text: String, between start: String, and end: String) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.firstIndex(where: { $0.contains(start) }),
            let last = lines[first...].firstIndex(where: { $0.contains(end) })
        else { return nil }
        return lines[(first + 1)..<last].joined(separator: "\n")
    }
}
