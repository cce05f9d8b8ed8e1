import ArgumentParser
import Foundation
import PixelFlowBatch
import PixelFlowClient
import PixelFlowProtocol

/// `pfctl usage [--since DURATION] [--json]`: metered usage per tenant and hour.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Show metered usage per tenant and hour: the caller's own (an admin key: every tenant's).",
        discussion: """
            One row per tenant and hour (UTC), oldest first, then a total per tenant. Columns: HOUR, TENANT, \
            ADMITTED, SUCCEEDED, FAILED, CANCELLED, MPIX (source megapixels decoded), IN and OUT (source and \
            variant bytes), CPU (worker CPU seconds). Failed attempts count towards MPIX and CPU. --json prints \
            {"since","buckets":[…],"totals":[…]}, each entry {"tenant","hour" (RFC 3339; totals have none), \
            "admitted","succeeded","failed","cancelled","source_pixels","source_megapixels","bytes_in", \
            "bytes_out","cpu_ms"}.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("From this long ago: 3600, 90m, 24h or 7d.", valueName: "DURATION"))
    var since: String = "24h"

    func validate() throws {
        guard DurationText.seconds(since) != nil else {
            throw ValidationError("--since must be a duration such as 3600, 90m, 24h or 7d, not '\(since)'")
        }
    }

    func run() async throws {
        let start = Date(timeIntervalSinceNow: -(DurationText.seconds(since) ?? 0))
        let buckets = try await connection.withClient(command: "usage") { try await $0.usage(since: start) }
        let totals = Self.totals(of: buckets)
        print(connection.json ? Self.json(buckets, totals: totals, since: start) : Self.text(buckets, totals: totals))
    }

    /// One bucket per tenant summing all of its hours, in tenant order; `hour` is the first hour seen.
    static func totals(of buckets: [UsageBucket]) -> [UsageBucket] {
        var totals: [String: UsageBucket] = [:]
        for bucket in buckets {
            if totals[bucket.tenant] == nil {
                totals[bucket.tenant] = bucket
            } else {
                totals[bucket.tenant]?.add(bucket)
            }
        }
        return totals.values.sorted { $0.tenant < $1.tenant }
    }

    static func text(_ buckets: [UsageBucket], totals: [UsageBucket]) -> String {
        guard !buckets.isEmpty else { return "no usage in this period" }
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:00"
        func row(_ hour: String, _ bucket: UsageBucket) -> [String] {
            [
                hour, bucket.tenant, "\(bucket.admitted)", "\(bucket.succeeded)", "\(bucket.failed)",
                "\(bucket.cancelled)", String(format: "%.1f", bucket.sourceMegapixels),
                BatchSummary.size(Int(clamping: bucket.bytesIn)), BatchSummary.size(Int(clamping: bucket.bytesOut)),
                String(format: "%.1f s", Double(bucket.cpuMilliseconds) / 1000),
            ]
        }
        return TextTable.render(
            header: [
                "HOUR (UTC)", "TENANT", "ADMITTED", "SUCCEEDED", "FAILED", "CANCELLED", "MPIX", "IN", "OUT", "CPU",
            ],
            rows: buckets.map { row(formatter.string(from: $0.hour), $0) } + totals.map { row("total", $0) }
        ).trimmingCharacters(in: .newlines)
    }

    static func json(_ buckets: [UsageBucket], totals: [UsageBucket], since: Date) -> String {
        func entry(_ bucket: UsageBucket, hour: Bool) -> String {
            var fields: [(String, String)] = [("tenant", JSONOutput.quoted(bucket.tenant))]
            if hour { fields.append(("hour", JSONOutput.quoted(JobsCommand.timestamp(bucket.hour)))) }
            fields += [
                ("admitted", "\(bucket.admitted)"), ("succeeded", "\(bucket.succeeded)"),
                ("failed", "\(bucket.failed)"), ("cancelled", "\(bucket.cancelled)"),
                ("source_pixels", "\(bucket.sourcePixels)"), ("source_megapixels", "\(bucket.sourceMegapixels)"),
                ("bytes_in", "\(bucket.bytesIn)"), ("bytes_out", "\(bucket.bytesOut)"),
                ("cpu_ms", "\(bucket.cpuMilliseconds)"),
            ]
            return JSONOutput.object(fields)
        }
        return JSONOutput.object([
            ("since", JSONOutput.quoted(JobsCommand.timestamp(since))),
            ("buckets", "[" + buckets.map { entry($0, hour: true) }.joined(separator: ",") + "]"),
            ("totals", "[" + totals.map { entry($0, hour: false) }.joined(separator: ",") + "]"),
        ])
    }
}
