import ArgumentParser
import Foundation
import PixelFlowBatch
import PixelFlowClient
import PixelFlowPipeline

/// `pfctl submit`: uploads one source in async mode and prints the job id as soon as it is admitted.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit one image as an async job; print its id.",
        discussion: "Prints the job id (--json: {\"job_id\":N}). Follow it with `pfctl status`, `wait` or `cancel`.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var pipelineOptions: PipelineOptions

    @Option(
        name: .customLong("idempotency-key"),
        help: ArgumentHelp("A resubmission with the same key returns the first job.", valueName: "K"))
    var idempotencyKey: String?

    @Option(
        name: .customLong("webhook"),
        help: ArgumentHelp("URL the coordinator calls when the job ends.", valueName: "URL"))
    var webhookURL: String?

    @Option(help: "0 lowest … 255 highest.")
    var priority: UInt8 = 128

    @Option(name: .customLong("deadline-ms"), help: "Drop the job unless it is running within this many milliseconds.")
    var deadlineMilliseconds: Int?

    @Argument(help: ArgumentHelp("The source image.", valueName: "FILE"))
    var file: String

    func run() async throws {
        let pipeline = try loadPipeline(pipelineOptions)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        let deadline = deadlineMilliseconds.map { Duration.milliseconds($0) }
        let job = try await connection.withClient(command: "submit") { client in
            try await client.submit(
                source: Array(data), pipeline: pipeline.wireJSON, idempotencyKey: idempotencyKey,
                webhookURL: webhookURL,
                priority: priority, deadline: deadline)
        }
        print(connection.json ? JSONOutput.submitted(job) : job.description)
    }
}

/// `pfctl status JOB`
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show where a job stands.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("The job id.", valueName: "JOB")) var job: UInt64

    func run() async throws {
        let status = try await connection.withClient(command: "status") { try await $0.status(JobID(job)) }
        print(connection.json ? JSONOutput.status(status) : TextOutput.status(status))
    }
}

/// `pfctl wait JOB`
struct WaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait", abstract: "Wait until a job ends; with -o, write its variants too.",
        discussion: """
            Exit status 0 when it succeeded, 1 when it failed or was cancelled. With -o DIR, an async job's stored \
            variants are then written as `pfctl fetch` writes them (DIR/<job-id>/<variant-id>.<ext>).
            """)

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .shortAndLong, help: ArgumentHelp("Also write the job's variants here.", valueName: "DIR"))
    var output: String?
    @Argument(help: ArgumentHelp("The job id.", valueName: "JOB")) var job: UInt64

    func run() async throws {
        let id = JobID(job)
        if let output {
            let root = URL(fileURLWithPath: output, isDirectory: true)
            let progress = BatchProgress(total: 1, unit: "jobs")
            let result = try await connection.withClient(command: "wait") { client in
                let result = await FetchedFiles.fetch(id, with: client, into: root)
                if case .failure(let error) = result, error.jobID == nil && error.code != .cancelled { throw error }
                progress.advance(failed: result.isFailure)
                return result
            }
            progress.finish()
            print(connection.json ? FetchedFiles.json(id, result) : FetchedFiles.text(id, result))
            if case .failure = result { throw ExitCode(1) }
            return
        }
        let result = try await connection.withClient(command: "wait") {
            client -> Result<JobOutcome, PixelFlowClientError> in
            let result = await Self.outcome(of: id, client: client)
            // A failed job is an answer to print; anything else (not found, connection lost) is a request error.
            if case .failure(let error) = result, error.jobID == nil && error.code != .cancelled { throw error }
            return result
        }
        print(connection.json ? JSONOutput.outcome(id, result) : TextOutput.outcome(id, result))
        if case .failure = result { throw ExitCode(1) }
    }

    static func outcome(of job: JobID, client: PixelFlowClient) async -> Result<JobOutcome, PixelFlowClientError> {
        do {
            return .success(try await client.wait(job))
        } catch {
            return .failure(error)
        }
    }
}

/// `pfctl cancel JOB`
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a job; show its state afterwards.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp("The job id.", valueName: "JOB")) var job: UInt64

    func run() async throws {
        let status = try await connection.withClient(command: "cancel") { try await $0.cancel(JobID(job)) }
        print(connection.json ? JSONOutput.status(status) : TextOutput.status(status))
    }
}

/// `pfctl workers`
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "workers", abstract: "List the registered workers.")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let workers = try await connection.withClient(command: "workers") { try await $0.workers() }
        print(
            connection.json ? JSONOutput.workers(workers) : TextOutput.workers(workers),
            terminator: connection.json ? "\n" : "")
    }
}

/// `pfctl stats`
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show queue depth, admissions, rejections and per-tenant usage.")

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let stats = try await connection.withClient(command: "stats") { try await $0.stats() }
        print(
            connection.json ? JSONOutput.stats(stats) : TextOutput.stats(stats), terminator: connection.json ? "\n" : ""
        )
    }
}

/// The pipeline from `--pipeline`/`--variant`, as a usage error (exit 2) when invalid.
func loadPipeline(_ options: PipelineOptions) throws(ValidationError) -> PixelFlowPipeline.Pipeline {
    do {
        return try BatchInputs.pipeline(file: options.pipeline, compact: options.variants)
    } catch {
        throw ValidationError(error.message)
    }
}
