import ArgumentParser
import Foundation
import PixelFlowBatch
import PixelFlowClient
import PixelFlowPipeline

/// `pfctl fetch JOB... -o DIR`: an async job's stored variants, written as `pfctl process` lays them out.
struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Write the variants an async job stored: DIR/<job-id>/<variant-id>.<ext>.",
        discussion: """
            Waits for each job to end, then reads its variants back from the coordinator's job store (kept for \
            jobs.result_ttl after the job ends, across restarts). Prints one line per job (--json: one JSON \
            object per job). Exit status 0 when every job succeeded and was written, 1 otherwise.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Output folder.", valueName: "DIR"))
    var output: String

    @Argument(help: ArgumentHelp("The job ids.", valueName: "JOB"))
    var jobs: [UInt64]

    func run() async throws {
        let root = URL(fileURLWithPath: output, isDirectory: true)
        let progress = BatchProgress(total: jobs.count, unit: "jobs")
        defer { progress.finish() }
        let failed = try await connection.withClient(command: "fetch") { client in
            var failed = 0
            for job in jobs {
                let result = await FetchedFiles.fetch(JobID(job), with: client, into: root)
                if case .failure(let error) = result, error.jobID == nil, error.code == .connectionLost { throw error }
                progress.clear()
                print(connection.json ? FetchedFiles.json(JobID(job), result) : FetchedFiles.text(JobID(job), result))
                fflush(nil)
                let didFail = result.isFailure
                if didFail { failed += 1 }
                progress.advance(failed: didFail)
            }
            return failed
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

/// Fetches a job and writes its variants to `DIR/<job-id>/`.
enum FetchedFiles {
    struct Written: Sendable {
        var outcome: JobOutcome
        var variants: [SourceResult.Variant]
        var folder: String
    }

    static func fetch(
        _ job: JobID, with client: PixelFlowClient, into root: URL
    ) async -> Result<
        Written, PixelFlowClientError
    > {
        let fetched: FetchedJob
        do {
            fetched = try await client.fetch(job)
        } catch {
            return .failure(error)
        }
        let source = BatchSource(
            path: "job \(job)", outputFolder: root.appendingPathComponent("\(job)", isDirectory: true))
        do throws(VariantFiles.WriteError) {
            try VariantFiles.prepare(source)
            var variants: [SourceResult.Variant] = []
            for variant in fetched.variants { variants.append(try VariantFiles.write(variant, for: source)) }
            return .success(Written(outcome: fetched.outcome, variants: variants, folder: source.outputFolder.path))
        } catch {
            return .failure(PixelFlowClientError(.other, error.message, jobID: job))
        }
    }

    static func text(_ job: JobID, _ result: Result<Written, PixelFlowClientError>) -> String {
        switch result {
        case .success(let written):
            "job \(job): \(written.variants.count) variants written to \(written.folder)"
        case .failure(let error):
            "job \(job) failed: \(error)"
        }
    }

    /// `{"job_id","ok":true,"attempts","elapsed_ms","variants":[{"id","path","width","height","format","bytes"}]}`,
    /// or `{"job_id","ok":false,"error":{"code","message"}}`.
    static func json(_ job: JobID, _ result: Result<Written, PixelFlowClientError>) -> String {
        switch result {
        case .success(let written):
            let variants = written.variants.map { variant in
                JSONOutput.object([
                    ("id", JSONOutput.quoted(variant.id)), ("path", JSONOutput.quoted(variant.path)),
                    ("width", "\(variant.width)"), ("height", "\(variant.height)"),
                    ("format", JSONOutput.quoted(variant.format)), ("bytes", "\(variant.bytes)"),
                ])
            }
            return JSONOutput.object([
                ("job_id", "\(job.rawValue)"), ("ok", "true"), ("attempts", "\(written.outcome.attempts)"),
                ("elapsed_ms", "\(written.outcome.elapsedMilliseconds)"),
                ("variants", "[" + variants.joined(separator: ",") + "]"),
            ])
        case .failure(let error):
            return JSONOutput.object([
                ("job_id", "\(job.rawValue)"), ("ok", "false"), ("error", JSONOutput.errorBody(error)),
            ])
        }
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
