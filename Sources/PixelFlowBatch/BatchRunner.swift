import Foundation

/// Runs a batch: `concurrency` sources at a time through a pluggable "process one source" step (the in-process
/// engine, or the cluster), printing a JSON line per source with `--json`, a progress bar on a terminal, and the
/// summary at the end (on standard error when standard output carries JSON lines).
public struct BatchRunner: Sendable {
    public typealias ProcessOne = @Sendable (BatchSource) async -> SourceResult

    public let sources: [BatchSource]
    public let concurrency: Int
    public let json: Bool
    public let reportsRetries: Bool

    public init(sources: [BatchSource], concurrency: Int, json: Bool, reportsRetries: Bool = false) {
        self.sources = sources
        self.concurrency = max(1, concurrency)
        self.json = json
        self.reportsRetries = reportsRetries
    }

    public func run(_ processOne: @escaping ProcessOne) async -> BatchSummary {
        let progress = BatchProgress(total: sources.count)
        var summary = BatchSummary(reportsRetries: reportsRetries)
        let clock = ContinuousClock.now

        await withTaskGroup(of: SourceResult.self) { group in
            var pending = sources.makeIterator()
            func startNext() {
                guard let source = pending.next() else { return }
                group.addTask { await processOne(source) }
            }
            for _ in 0..<concurrency { startNext() }
            while let result = await group.next() {
                summary.add(result)
                if json { StandardStreams.write(BatchJSONLine.render(result) + "\n", to: .standardOutput) }
                progress.advance(failed: result.failure != nil)
                startNext()
            }
        }
        progress.finish()
        summary.elapsed = ContinuousClock.now - clock
        StandardStreams.write(summary.text, to: json ? .standardError : .standardOutput)
        return summary
    }
}

/// The exit statuses every batch command promises.
public enum BatchExitStatus {
    /// Every source succeeded.
    public static let success: Int32 = 0
    /// At least one source failed.
    public static let someFailed: Int32 = 1
    /// Bad flags or inputs; nothing ran.
    public static let usage: Int32 = 2

    public static func of(_ summary: BatchSummary) -> Int32 {
        summary.failures.isEmpty ? success : someFailed
    }
}

/// Writes variants where the batch layout says: `DIR/<source-stem>/<variant-id>.<ext>`.
public enum VariantFiles {
    public struct WriteError: Error, Sendable {
        public let message: String
    }

    public static func prepare(_ source: BatchSource) throws(WriteError) {
        do {
            try FileManager.default.createDirectory(at: source.outputFolder, withIntermediateDirectories: true)
        } catch {
            throw WriteError(message: "cannot create \(source.outputFolder.path): \(error.localizedDescription)")
        }
    }

    /// Writes the bytes and returns the file's path.
    public static func write<Bytes: DataProtocol>(
        _ bytes: Bytes, for source: BatchSource, variantID: String, fileExtension: String
    ) throws(WriteError) -> String {
        let url = source.outputURL(variantID: variantID, fileExtension: fileExtension)
        do {
            try Data(bytes).write(to: url)
        } catch {
            throw WriteError(message: "cannot write \(url.path): \(error.localizedDescription)")
        }
        return url.path
    }
}

/// Writes that survive a closed pipe (`pfctl process --json | head -1`): FileHandle.write(_: Data) traps on
/// EPIPE, the throwing variant reports it and the batch carries on.
public enum StandardStreams {
    public enum Stream: Sendable { case standardOutput, standardError }

    public static func write(_ text: String, to stream: Stream) {
        let handle = stream == .standardOutput ? FileHandle.standardOutput : FileHandle.standardError
        try? handle.write(contentsOf: Data(text.utf8))
    }
}
