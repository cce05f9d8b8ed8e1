import PixelFlowBatch
import PixelFlowClient
import PixelFlowPipeline

/// pfctl's `--json` documents, written by hand so keys keep a stable, documented order.
enum JSONOutput {
    static func quoted(_ text: String) -> String { JSONText.quoted(text) }

    static func object(_ fields: [(String, String)]) -> String { JSONText.object(fields) }

    /// `{"error":{"code","message","retry_after_ms"}}`
    static func error(_ error: PixelFlowClientError) -> String {
        object([("error", errorBody(error))])
    }

    static func errorBody(_ error: PixelFlowClientError) -> String {
        var fields = [("code", quoted(error.name)), ("message", quoted(error.message))]
        if let retryAfter = error.retryAfter {
            fields.append(
                (
                    "retry_after_ms",
                    "\(retryAfter.components.seconds * 1_000 + retryAfter.components.attoseconds / 1_000_000_000_000_000)"
                ))
        }
        return object(fields)
    }

    /// `{"job_id"}` (submit)
    static func submitted(_ job: JobID) -> String {
        object([("job_id", "\(job.rawValue)")])
    }

    /// `{"job_id","state","attempts","variants_done","error":{"code","message"}|null}` (status, cancel)
    static func status(_ status: JobStatusReport) -> String {
        // The report carries an error exactly when the job failed or the coordinator gave a code.
        let error =
            status.error.map { error in
                object([("code", quoted(error.protocolCode ?? error.name)), ("message", quoted(error.message))])
            } ?? "null"
        return object([
            ("job_id", "\(status.jobID)"), ("state", quoted(status.state.description)),
            ("attempts", "\(status.attempts)"),
            ("variants_done", "\(status.variantsDone)"), ("error", error),
        ])
    }

    /// `{"job_id","ok":true,"variants","attempts","elapsed_ms"}` or `{"job_id","ok":false,"error":{...}}` (wait)
    static func outcome(_ job: JobID, _ result: Result<JobOutcome, PixelFlowClientError>) -> String {
        switch result {
        case .success(let done):
            object([
                ("job_id", "\(done.jobID)"), ("ok", "true"), ("variants", "\(done.variants)"),
                ("attempts", "\(done.attempts)"),
                ("elapsed_ms", "\(done.elapsedMilliseconds)"),
            ])
        case .failure(let error):
            object([("job_id", "\(job.rawValue)"), ("ok", "false"), ("error", errorBody(error))])
        }
    }

    /// `[{"name","address","slots","busy","done","failed","last_heartbeat_ms"}]` (workers)
    static func workers(_ workers: [WorkerInfo]) -> String {
        "["
            + workers.map { worker in
                object([
                    ("name", quoted(worker.name)), ("address", quoted(worker.address)), ("slots", "\(worker.slots)"),
                    ("busy", "\(worker.busy)"), ("done", "\(worker.done)"), ("failed", "\(worker.failed)"),
                    ("last_heartbeat_ms", "\(worker.lastHeartbeatMillisecondsAgo)"),
                ])
            }.joined(separator: ",") + "]"
    }

    /// `{"queued","running","admitted","rejected","succeeded","failed","workers","tenants":[{"name",...counters}]}` (stats)
    static func stats(_ stats: ClusterStats) -> String {
        let tenants = stats.tenants.map { object([("name", quoted($0.name))] + counters($0.counters)) }
        return object(
            counters(stats.total) + [
                ("workers", "\(stats.workers)"), ("tenants", "[" + tenants.joined(separator: ",") + "]"),
            ])
    }

    private static func counters(_ counters: ClusterStats.Counters) -> [(String, String)] {
        [
            ("queued", "\(counters.queued)"), ("running", "\(counters.running)"), ("admitted", "\(counters.admitted)"),
            ("rejected", "\(counters.rejected)"), ("succeeded", "\(counters.succeeded)"),
            ("failed", "\(counters.failed)"),
        ]
    }
}

/// Left-aligned text columns, two spaces apart.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
