import ArgumentParser
import Foundation
import PixelFlowClient

/// `pfctl jobs [--state S] [--limit N]`: the stored (async) jobs, newest first.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List stored (async) jobs, newest first: the caller's own (an admin key: every tenant's).",
        discussion: """
            Failed jobs are the dead letters: `--state failed` lists them with their error. Columns: JOB, TENANT, \
            STATE, ATTEMPTS, VARIANTS, ADMITTED, ENDED, ERROR. --json prints an array of \
            {"job_id","tenant","state","attempts","variants","admitted_at","ended_at","error":{"code","message"}|null} \
            (times in RFC 3339, ended_at null while running).
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Only jobs in this state: queued, running, succeeded, failed or cancelled.")
    var state: String?

    @Option(help: "At most this many jobs (newest first).")
    var limit: Int = 50

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        if let state, Self.state(named: state) == nil {
            throw ValidationError("--state must be queued, running, succeeded, failed or cancelled, not '\(state)'")
        }
    }

    static func state(named name: String) -> JobState? {
        [JobState.queued, .running, .succeeded, .failed, .cancelled].first { $0.description == name }
    }

    func run() async throws {
        let filter = state.flatMap(Self.state(named:))
        let limit = self.limit
        let jobs = try await connection.withClient(command: "jobs") { client in
            var jobs: [JobSummary] = []
            var before: JobID?
            repeat {
                let page = try await client.jobs(state: filter, limit: min(200, limit - jobs.count), before: before)
                jobs += page.jobs
                before = page.next
            } while before != nil && jobs.count < limit
            return jobs
        }
        print(connection.json ? Self.json(jobs) : Self.text(jobs), terminator: connection.json ? "\n" : "")
    }

    static func text(_ jobs: [JobSummary]) -> String {
        guard !jobs.isEmpty else { return "no jobs\n" }
        return TextTable.render(
            header: ["JOB", "TENANT", "STATE", "ATTEMPTS", "VARIANTS", "ADMITTED", "ENDED", "ERROR"],
            rows: jobs.map { job in
                [
                    "\(job.jobID)", job.tenant, job.state.description, "\(job.attempts)", "\(job.variants)",
                    timestamp(job.admittedAt), job.endedAt.map(timestamp) ?? "-",
                    job.error.map { "\($0.code): \($0.message)" } ?? "",
                ]
            })
    }

    static func json(_ jobs: [JobSummary]) -> String {
        "["
            + jobs.map { job in
                let error =
                    job.error.map {
                        JSONOutput.object([
                            ("code", JSONOutput.quoted($0.code)), ("message", JSONOutput.quoted($0.message)),
                        ])
                    } ?? "null"
                return JSONOutput.object([
                    ("job_id", "\(job.jobID.rawValue)"), ("tenant", JSONOutput.quoted(job.tenant)),
                    ("state", JSONOutput.quoted(job.state.description)), ("attempts", "\(job.attempts)"),
                    ("variants", "\(job.variants)"), ("admitted_at", JSONOutput.quoted(timestamp(job.admittedAt))),
                    ("ended_at", job.endedAt.map { JSONOutput.quoted(timestamp($0)) } ?? "null"), ("error", error),
                ])
            }.joined(separator: ",") + "]"
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
