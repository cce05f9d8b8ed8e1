import Foundation
import PixelFlowClient

/// pfctl's human-readable output.
enum TextOutput {
    static func status(_ status: JobStatusReport) -> String {
        var text =
            "job \(status.jobID): \(status.state), \(status.attempts) attempt\(status.attempts == 1 ? "" : "s"), \(status.variantsDone) variant\(status.variantsDone == 1 ? "" : "s") done"
        // The text names a failure only when the coordinator gave a code; the JSON shows every failed job's error.
        if let error = status.error, let code = error.protocolCode, code != "none" {
            text += "; \(code): \(error.message)"
        }
        return text
    }

    static func outcome(_ job: JobID, _ result: Result<JobOutcome, PixelFlowClientError>) -> String {
        switch result {
        case .success(let done):
            "job \(done.jobID) succeeded: \(done.variants) variants, \(done.attempts) attempt\(done.attempts == 1 ? "" : "s"), \(done.elapsedMilliseconds) ms"
        case .failure(let error):
            "job \(job) failed: \(error)"
        }
    }

    static func workers(_ workers: [WorkerInfo]) -> String {
        guard !workers.isEmpty else { return "no workers registered\n" }
        return TextTable.render(
            header: ["NAME", "ADDRESS", "SLOTS", "BUSY", "DONE", "FAILED", "LAST HEARTBEAT"],
            rows: workers.map { worker in
                [
                    worker.name, worker.address, "\(worker.slots)", "\(worker.busy)", "\(worker.done)",
                    "\(worker.failed)",
                    String(format: "%.1f s ago", Double(worker.lastHeartbeatMillisecondsAgo) / 1_000),
                ]
            })
    }

    static func stats(_ stats: ClusterStats) -> String {
        let total = stats.total
        var text = "queue depth \(total.queued), running \(total.running), workers \(stats.workers)\n"
        text +=
            "admitted \(total.admitted), rejected \(total.rejected), succeeded \(total.succeeded), failed \(total.failed)\n"
        guard !stats.tenants.isEmpty else { return text }
        text +=
            "\n"
            + TextTable.render(
                header: ["TENANT", "QUEUED", "RUNNING", "ADMITTED", "REJECTED", "SUCCEEDED", "FAILED"],
                rows: stats.tenants.map { tenant in
                    let c = tenant.counters
                    return [
                        tenant.name, "\(c.queued)", "\(c.running)", "\(c.admitted)", "\(c.rejected)", "\(c.succeeded)",
                        "\(c.failed)",
                    ]
                })
        return text
    }
}
