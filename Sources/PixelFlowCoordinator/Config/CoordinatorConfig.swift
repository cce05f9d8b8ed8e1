import Foundation
import NIOCore
import PixelFlowProtocol
import PixelFlowStore

/// The coordinator's configuration: a JSON file (example in the README), overridden by `PIXELFLOW_*`
/// environment variables, overridden by flags. Every key has a default except the secrets.
public struct CoordinatorConfig: Sendable {
    public var listen = "127.0.0.1:7400"
    public var http = "127.0.0.1:7401"
    /// The HTTP API's address (`api.listen`, HOST:PORT); nil: no HTTP API.
    public var api: String?
    /// Largest JSON request body the HTTP API reads (`api.max_json_bytes`); sources are capped by
    /// `limits.max_source_bytes`.
    public var apiMaxJSONBytes = 1 << 20
    /// An HTTP API connection with no request for this long is closed (`api.idle_timeout_ms`).
    public var apiIdleTimeout: TimeAmount = .seconds(30)
    /// TLS on the protocol port (`tls.cert`, `tls.key`, `tls.client_ca`); nil: plain TCP.
    public var tls: TLSFiles?
    /// The key id and secret workers join with (`join.key_id`, `join.secret`).
    public var joinKeyID = "worker"
    public var joinSecret: [UInt8]?
    public var tenants: [TenantPolicy] = []
    public var settings = CoordinatorSettings()
    /// The data directory of the job store (`store.path`); nil keeps every job in memory only. `pixelflow
    /// coordinator` defaults it to `./pixelflow-data`.
    public var storePath: String?
    public var storeOptions = SQLiteStoreOptions()
    public var webhooks = WebhookSettings()
    /// The object store of `s3_presigned` jobs (`objects.s3`); nil: none.
    public var objects: ObjectsConfig?
    /// How `url` sources are fetched (`sources.*`).
    public var sources = SourceSettings()

    public init() {}

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Reads `json` (may be nil: defaults only), then applies `environment` overrides.
    public init(json: Data?, environment: [String: String]) throws {
        let root = try Self.jsonRoot(json)
        var reader = ConfigReader(root: root, environment: environment)
        listen = try reader.string("listen") ?? listen
        http = try reader.string("http") ?? http
        settings.eventLoops = try reader.integer("event_loops", in: 1...256) ?? settings.eventLoops
        joinKeyID = try reader.string("join.key_id") ?? joinKeyID
        joinSecret = try reader.string("join.secret").map { Array($0.utf8) }

        var limits = ProtocolLimits.default
        limits.maxControlPayload =
            try reader.integer("limits.max_control_frame_bytes", in: 1024...16 << 20) ?? limits.maxControlPayload
        limits.maxChunkData = try reader.integer("limits.max_chunk_bytes", in: 1024...16 << 20) ?? limits.maxChunkData
        limits.maxSourceBytes =
            try reader.integer("limits.max_source_bytes", in: 1...(1 << 40)) ?? limits.maxSourceBytes
        limits.maxVariantBytes =
            try reader.integer("limits.max_variant_bytes", in: 1...(1 << 40)) ?? limits.maxVariantBytes
        limits.maxVariants = try reader.integer("limits.max_variants", in: 1...256) ?? limits.maxVariants
        limits.maxInFlight = try reader.integer("limits.max_in_flight", in: 1...65535) ?? limits.maxInFlight
        limits.handshakeTimeoutMilliseconds =
            try reader.integer("limits.handshake_timeout_ms", in: 100...600_000) ?? limits.handshakeTimeoutMilliseconds
        settings.limits = limits
        settings.uploadIdleTimeout =
            try reader.milliseconds("limits.upload_idle_timeout_ms") ?? settings.uploadIdleTimeout
        settings.minUploadBytesPerSecond =
            try reader.integer("limits.min_upload_bytes_per_second", in: 1...(1 << 40))
            ?? settings.minUploadBytesPerSecond
        settings.idleTimeout =
            try reader.milliseconds("limits.idle_timeout_ms", in: 1_000...86_400_000) ?? settings.idleTimeout
        settings.frameTimeout =
            try reader.milliseconds("limits.frame_timeout_ms", in: 100...3_600_000) ?? settings.frameTimeout
        settings.maxOutboundBytes =
            try reader.integer("limits.max_outbound_bytes", in: (1 << 20)...(1 << 40)) ?? settings.maxOutboundBytes
        settings.maxFetchBytes =
            try reader.integer("limits.max_fetch_bytes", in: (1 << 20)...(1 << 40)) ?? settings.maxFetchBytes
        settings.writeStallTimeout =
            try reader.milliseconds("limits.write_stall_timeout_ms", in: 100...3_600_000) ?? settings.writeStallTimeout
        settings.maxConnections =
            try reader.integer("limits.max_connections", in: 1...1_000_000) ?? settings.maxConnections
        settings.authFailuresBeforeBackoff =
            try reader.integer("auth.failures_before_backoff", in: 1...1_000_000) ?? settings.authFailuresBeforeBackoff
        settings.authBackoff = try reader.milliseconds("auth.backoff_ms") ?? settings.authBackoff
        settings.authMaxBackoff = try reader.milliseconds("auth.max_backoff_ms") ?? settings.authMaxBackoff
        settings.authTrackedAddresses =
            try reader.integer("auth.tracked_addresses", in: 1...10_000_000) ?? settings.authTrackedAddresses
        settings.shutdownGrace =
            try reader.milliseconds("shutdown.grace_ms", in: 0...3_600_000) ?? settings.shutdownGrace

        settings.maxQueuedJobs = try reader.integer("queue.max_jobs", in: 1...10_000_000) ?? settings.maxQueuedJobs
        settings.maxHeldSourceBytes =
            try reader.integer("queue.max_source_bytes", in: 1...(1 << 44)) ?? settings.maxHeldSourceBytes
        settings.tenantMaxHeldSourceBytes =
            try reader.integer("queue.tenant_max_source_bytes", in: 1...(1 << 44))
            ?? max(1, settings.maxHeldSourceBytes / 4)
        settings.queueFullRetryAfter =
            try reader.milliseconds("queue.full_retry_after_ms") ?? settings.queueFullRetryAfter
        settings.lease = try reader.milliseconds("workers.lease_ms") ?? settings.lease
        settings.heartbeatInterval =
            try reader.milliseconds("workers.heartbeat_interval_ms") ?? settings.heartbeatInterval
        settings.maxAttempts = try reader.integer("jobs.max_attempts", in: 1...100) ?? settings.maxAttempts
        settings.retryBackoff = try reader.milliseconds("jobs.retry_backoff_ms") ?? settings.retryBackoff
        settings.retryBackoffMax = try reader.milliseconds("jobs.retry_backoff_max_ms") ?? settings.retryBackoffMax
        settings.taskTimeLimit = try reader.milliseconds("jobs.time_limit_ms") ?? settings.taskTimeLimit
        settings.maxFinishedJobs =
            try reader.integer("jobs.max_finished", in: 1...100_000_000) ?? settings.maxFinishedJobs
        settings.resultTTL = try reader.duration("jobs.result_ttl") ?? settings.resultTTL
        settings.usageFlushInterval =
            try reader.milliseconds("usage.flush_interval_ms", in: 100...3_600_000) ?? settings.usageFlushInterval
        settings.usageRetention = try reader.duration("usage.retention") ?? settings.usageRetention
        settings.draftTTL = try reader.duration("api.draft_ttl") ?? settings.draftTTL
        settings.apiCachedJobs = try reader.integer("api.cached_jobs", in: 0...10_000_000) ?? settings.apiCachedJobs
        api = try reader.string("api.listen") ?? api
        objects = try ObjectsConfig.read(&reader)
        tls = try TLSFiles.read(&reader)
        apiMaxJSONBytes = try reader.integer("api.max_json_bytes", in: 1024...(64 << 20)) ?? apiMaxJSONBytes
        apiIdleTimeout = try reader.milliseconds("api.idle_timeout_ms", in: 1000...3_600_000) ?? apiIdleTimeout
        settings.expirySweepInterval =
            try reader.milliseconds("jobs.expiry_sweep_interval_ms", in: 100...86_400_000)
            ?? settings.expirySweepInterval
        storePath = try reader.string("store.path")
        if let synchronous = try reader.string("store.synchronous") {
            guard let value = SQLiteStoreOptions.Synchronous(rawValue: synchronous) else {
                throw Invalid("store.synchronous must be full or normal, got '\(synchronous)'")
            }
            storeOptions.synchronous = value
        }
        storeOptions.inlineBlobMaxBytes =
            try reader.integer("store.inline_blob_max_bytes", in: 0...(1 << 24)) ?? storeOptions.inlineBlobMaxBytes
        storeOptions.checkOnStart = try reader.bool("store.check_on_start") ?? storeOptions.checkOnStart
        storeOptions.recentFinishedJobs = settings.maxFinishedJobs
        settings.maxPendingStoreWrites =
            try reader.integer("store.max_batch", in: 1...1_000_000) ?? settings.maxPendingStoreWrites
        webhooks.allow = try Self.addressBlocks(root, "webhooks")
        sources.allow = try Self.addressBlocks(root, "sources")
        sources.timeout = try reader.milliseconds("sources.fetch_timeout_ms", in: 100...600_000) ?? sources.timeout
        sources.maxRedirects = try reader.integer("sources.max_redirects", in: 0...10) ?? sources.maxRedirects
        webhooks.timeout = try reader.milliseconds("webhooks.timeout_ms", in: 100...600_000) ?? webhooks.timeout
        webhooks.retryBackoff = try reader.milliseconds("webhooks.retry_backoff_ms") ?? webhooks.retryBackoff
        webhooks.retryBackoffMax =
            try reader.milliseconds("webhooks.retry_backoff_max_ms") ?? webhooks.retryBackoffMax
        webhooks.maxRetryDuration = try reader.duration("webhooks.max_retry_duration") ?? webhooks.maxRetryDuration
        webhooks.maxConcurrent = try reader.integer("webhooks.max_concurrent", in: 1...1024) ?? webhooks.maxConcurrent
        guard webhooks.retryBackoff <= webhooks.retryBackoffMax else {
            throw Invalid("webhooks.retry_backoff_ms must not exceed webhooks.retry_backoff_max_ms")
        }
        guard settings.heartbeatInterval < settings.lease else {
            throw Invalid("workers.heartbeat_interval_ms must be shorter than workers.lease_ms")
        }
        guard settings.retryBackoff <= settings.retryBackoffMax else {
            throw Invalid("jobs.retry_backoff_ms must not exceed jobs.retry_backoff_max_ms")
        }
        guard settings.authBackoff <= settings.authMaxBackoff else {
            throw Invalid("auth.backoff_ms must not exceed auth.max_backoff_ms")
        }
        guard settings.tenantMaxHeldSourceBytes <= settings.maxHeldSourceBytes else {
            throw Invalid("queue.tenant_max_source_bytes must not exceed queue.max_source_bytes")
        }

        tenants = try (root["tenants"] as? [Any] ?? []).enumerated().map { index, item in
            guard let tenant = item as? [String: Any] else { throw Invalid("tenants[\(index)] is not an object") }
            var fields = ConfigReader(root: tenant, environment: [:])
            guard let keyID = try fields.string("key_id"), !keyID.isEmpty else {
                throw Invalid("tenants[\(index)].key_id is missing")
            }
            guard let secret = try fields.string("secret"), secret.utf8.count >= 16 else {
                throw Invalid("tenants[\(index)].secret is missing or shorter than 16 bytes")
            }
            // Bounded so the token bucket's arithmetic stays finite: at 0.001 jobs/s a token takes ~17 minutes.
            let rate: Double = try fields.number("rate", in: TokenBucket.rates, name: "tenants[\(index)].rate") ?? 100
            let burst: Double =
                try fields.number("burst", in: TokenBucket.bursts, name: "tenants[\(index)].burst")
                ?? min(TokenBucket.bursts.upperBound, max(1, rate * 2))
            let maxHeld: UInt64? = try fields.integer("max_source_bytes", in: 1...(1 << 44))
            if let maxHeld, maxHeld > settings.maxHeldSourceBytes {
                throw Invalid("tenants[\(index)].max_source_bytes must not exceed queue.max_source_bytes")
            }
            let webhookSecret = try fields.string("webhook_secret")
            if let webhookSecret, webhookSecret.utf8.count < 16 {
                throw Invalid("tenants[\(index)].webhook_secret is shorter than 16 bytes")
            }
            let tokenHash = try fields.string("api_token_sha256")
            let apiTokenSHA256 = try tokenHash.map { hex in
                guard let digest = Self.bytes(hex: hex), digest.count == 32 else {
                    throw Invalid("tenants[\(index)].api_token_sha256 is not 64 hex digits (a SHA-256)")
                }
                return digest
            }
            return TenantPolicy(
                keyID: keyID, secret: Array(secret.utf8), rate: rate, burst: burst,
                maxQueued: try fields.integer("max_queued", in: 1...10_000_000) ?? 1_000,
                maxHeldSourceBytes: maxHeld, isAdmin: try fields.bool("admin") ?? false,
                webhookSecret: webhookSecret.map { Array($0.utf8) }, apiTokenSHA256: apiTokenSHA256)
        }
        let ids = tenants.map(\.keyID)
        guard Set(ids).count == ids.count else { throw Invalid("two tenants share a key_id") }
    }

    /// `<section>.allow`: addresses and CIDR blocks.
    static func addressBlocks(_ root: [String: Any], _ section: String) throws -> [AddressBlock] {
        guard let value = (root[section] as? [String: Any])?["allow"] else { return [] }
        guard let list = value as? [String] else { throw Invalid("\(section).allow must be a list of strings") }
        return try list.map { text in
            guard let block = AddressBlock(text) else {
                throw Invalid("\(section).allow: '\(text)' is not an address or a CIDR block")
            }
            return block
        }
    }

    /// Bytes from hex digits (either case), or nil if `hex` is not an even run of them.
    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Character(UnicodeScalar(digits[index])).hexDigitValue,
                let low = Character(UnicodeScalar(digits[index + 1])).hexDigitValue
            else { return nil }
            bytes.append(UInt8(high << 4 | low))
        }
        return bytes
    }

    /// `HOST:PORT` split; IPv6 hosts in brackets.
    /// A worker's part of a shared config file: `join.key_id` and `join.secret`, nothing else, so a worker never
    /// needs what only the coordinator holds (an object store's secret, a store path) to start.
    public static func join(json: Data?, environment: [String: String]) throws -> (keyID: String, secret: [UInt8]?) {
        var reader = ConfigReader(root: try jsonRoot(json), environment: environment)
        return (try reader.string("join.key_id") ?? "worker", try reader.string("join.secret").map { Array($0.utf8) })
    }

    private static func jsonRoot(_ json: Data?) throws -> [String: Any] {
        guard let json else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw Invalid("the config file is not a JSON object")
        }
        return object
    }

    public static func hostAndPort(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw Invalid("'\(address)' is not HOST:PORT")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// Reads dotted keys from the JSON tree, with `PIXELFLOW_<KEY>` environment variables taking precedence
/// (`limits.max_source_bytes` → `PIXELFLOW_LIMITS_MAX_SOURCE_BYTES`).
struct ConfigReader {
    let root: [String: Any]
    let environment: [String: String]

    static func environmentName(_ key: String) -> String {
        "PIXELFLOW_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    private func raw(_ key: String) -> Any? {
        if let value = environment[Self.environmentName(key)] { return value }
        var node: Any? = root
        for part in key.split(separator: ".") { node = (node as? [String: Any])?[String(part)] }
        return node
    }

    mutating func string(_ key: String) throws -> String? {
        guard let value = raw(key) else { return nil }
        guard let string = value as? String else { throw CoordinatorConfig.Invalid("\(key) must be a string") }
        return string
    }

    mutating func number(_ key: String) throws -> Double? {
        switch raw(key) {
        case nil: return nil
        case let number as NSNumber:
            guard number.doubleValue.isFinite else { throw CoordinatorConfig.Invalid("\(key) must be a finite number") }
            return number.doubleValue
        case let text as String:
            guard let number = Double(text), number.isFinite else {
                throw CoordinatorConfig.Invalid("\(key) must be a number, got '\(text)'")
            }
            return number
        default: throw CoordinatorConfig.Invalid("\(key) must be a number")
        }
    }

    /// A number within `range`; `name` is how the error names the key.
    mutating func number(_ key: String, in range: ClosedRange<Double>, name: String) throws -> Double? {
        guard let number = try number(key) else { return nil }
        guard range.contains(number) else {
            throw CoordinatorConfig.Invalid(
                "\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(number)")
        }
        return number
    }

    mutating func integer<Integer: FixedWidthInteger>(_ key: String, in range: ClosedRange<Int64>) throws -> Integer? {
        guard let number = try number(key) else { return nil }
        guard number == number.rounded(), let value = Int64(exactly: number), range.contains(value),
            let result = Integer(exactly: value)
        else {
            throw CoordinatorConfig.Invalid(
                "\(key) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return result
    }

    mutating func bool(_ key: String) throws -> Bool? {
        switch raw(key) {
        case nil: return nil
        case let text as String where ["true", "1", "yes"].contains(text.lowercased()): return true
        case let text as String where ["false", "0", "no"].contains(text.lowercased()): return false
        case let number as NSNumber: return number.boolValue
        default: throw CoordinatorConfig.Invalid("\(key) must be true or false")
        }
    }

    /// A duration: a number of seconds, or a number with a unit (`90s`, `30m`, `24h`, `7d`).
    mutating func duration(_ key: String) throws -> TimeAmount? {
        guard let value = raw(key) else { return nil }
        let invalid = CoordinatorConfig.Invalid("\(key) must be a duration such as 3600, \"90m\", \"24h\" or \"7d\"")
        let seconds: Double
        switch value {
        case let number as NSNumber:
            seconds = number.doubleValue
        case let text as String:
            guard let parsed = DurationText.seconds(text) else { throw invalid }
            seconds = parsed
        default:
            throw invalid
        }
        guard seconds.isFinite, seconds >= 1, seconds <= 365 * 86_400 else { throw invalid }
        return .milliseconds(Int64(seconds * 1000))
    }

    mutating func milliseconds(_ key: String, in range: ClosedRange<Int64> = 1...86_400_000) throws -> TimeAmount? {
        let value: Int64? = try integer(key, in: range)
        return value.map { .milliseconds($0) }
    }
}
