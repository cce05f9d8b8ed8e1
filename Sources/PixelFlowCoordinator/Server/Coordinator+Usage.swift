import Foundation
import NIOCore
import PixelFlowProtocol
import PixelFlowStore

/// Usage metering on the coordinator's side: the periodic write of what was recorded, USAGE pages, retention.
extension Coordinator {
    /// Every `usage.flush_interval_ms`, writes what was metered since the last flush (one write per interval,
    /// whatever the job rate). Ends when the task is cancelled; `stop()` flushes the rest.
    func runUsageFlush() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(settings.usageFlushInterval.milliseconds))
            await flushUsage()
        }
    }

    /// Commits the ledger's batch directly, not through the step queue: no delivery depends on it, and queued
    /// behind it a step's deliveries (a stream job's JOB_DONE) would wait for its commit — or miss a shutdown.
    func flushUsage() async {
        let now = NIODeadline.now()
        // Without a store this only drops buckets past the retention (and there is nothing to write).
        guard let write = shared.withLock({ $0.cluster.takeUsageFlush(now: now) }), let store else { return }
        var committed = true
        do {
            try await store.commit([write])
        } catch {
            committed = false
            logger.error("job store: usage not written (kept for the next flush): \(error.message)")
        }
        shared.withLock { $0.cluster.usageFlushEnded(committed: committed) }
    }

    /// A client's question about what the store keeps, answered with one frame.
    func answer(_ query: StoreQuery, tenant: String) async -> Result<Message, ProtocolError> {
        switch query {
        case .jobs(let request): await jobList(request, tenant: tenant).map { .jobList($0) }
        case .usage(let request): await usageReport(request, tenant: tenant).map { .usage($0) }
        }
    }

    /// USAGE_REQUEST: a page of hourly buckets, the store's plus what has not reached it yet. An operator key sees
    /// every tenant's; any other key its own.
    func usageReport(_ request: UsageRequest, tenant: String) async -> Result<UsageReport, ProtocolError> {
        let scope = isAdmin(tenant) ? nil : tenant
        var stored: [UsageReport.Bucket] = []
        var sequence: UInt64 = 0
        if let store {
            let isFirstPage = request.afterHour == 0 && request.afterTenant.isEmpty
            do throws(StoreError) {
                (stored, sequence) = try await store.usage(
                    tenant: scope, since: request.since,
                    after: isFirstPage ? nil : UsageCursor(hour: request.afterHour, tenant: request.afterTenant),
                    limit: Int(request.limit) + 1)
            } catch {
                return .failure(ProtocolError(.storageError, "usage cannot be read: \(error.message)"))
            }
        }
        return .success(
            shared.withLock {
                $0.cluster.usagePage(stored: stored, storedSequence: sequence, request: request, tenant: scope)
            })
    }

    /// Deletes hourly buckets older than `usage.retention`.
    func deleteOldUsage(_ store: any JobStore) async {
        let now = UInt64(max(0, Date().timeIntervalSince1970))
        let retention = UInt64(settings.usageRetention.nanoseconds / 1_000_000_000)
        guard now > retention else { return }
        do {
            let deleted = try await store.deleteUsage(before: now - retention)
            if deleted > 0 { logger.info("job store: deleted \(deleted) usage buckets past usage.retention") }
        } catch {
            logger.error("job store: deleting old usage failed: \(error.message)")
        }
    }
}
