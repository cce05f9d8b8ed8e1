import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Fetches a `source_url` over HTTP(S) for a job about to start, with the webhooks' SSRF guard: every hop's host
/// is resolved and must be public (or in `sources.allow`), redirects are followed by hand (at most
/// `sources.max_redirects`) so each target is checked before it is called, the body is read up to the source
/// limit and no further, and the whole fetch has one deadline.
struct SourceFetcher: Sendable {
    enum Failure: Error, Equatable {
        /// The URL (or a redirect) may not be called: the request's fault.
        case refused(String)
        /// The other side failed: unreachable, an error status, too slow.
        case unavailable(String)
        /// Over `limits.max_source_bytes`.
        case tooLarge(String)
    }

    let settings: SourceSettings
    private let guardrail: AddressGuard

    /// One client for the process, never shut down; redirects are not followed by it.
    static let transport: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(5))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    init(settings: SourceSettings) {
        self.settings = settings
        self.guardrail = AddressGuard(allow: settings.allow, subject: "source_url", allowKey: "sources.allow")
    }

    /// Whether `url` is an absolute http(s) URL with a host, before anything is resolved.
    static func problem(with url: String) -> String? {
        guard url.utf8.count <= 2048 else { return "source_url is longer than 2048 bytes" }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty
        else { return "source_url must be an absolute http:// or https:// URL with a host" }
        return nil
    }

    func fetch(_ url: String, limit: UInt64) async -> Result<ByteBuffer, Failure> {
        let deadline = NIODeadline.now() + settings.timeout
        var current = url
        for _ in 0...settings.maxRedirects {
            switch await guardrail.check(current) {
            case .refused(let reason): return .failure(.refused(reason))
            case .unresolved(let reason): return .failure(.unavailable(reason))
            case nil: break
            }
            var request = HTTPClientRequest(url: current)
            request.headers.add(name: "User-Agent", value: "pixelflow-sources")
            let response: HTTPClientResponse
            do {
                response = try await Self.transport.execute(request, deadline: deadline)
            } catch {
                return .failure(.unavailable("source_url \(current): \(error)"))
            }
            let status = Int(response.status.code)
            if [301, 302, 303, 307, 308].contains(status) {
                guard let location = response.headers.first(name: "location"),
                    let next = URL(string: location, relativeTo: URL(string: current))?.absoluteURL.absoluteString,
                    Self.problem(with: next) == nil
                else {
                    return .failure(
                        .unavailable("source_url \(current): a redirect (\(status)) without a usable Location"))
                }
                current = next
                continue
            }
            guard (200..<300).contains(status) else {
                return .failure(.unavailable("source_url \(current) answered HTTP \(status)"))
            }
            if let declared = response.headers.first(name: "content-length").flatMap(UInt64.init), declared > limit {
                return .failure(.tooLarge("source_url \(current) has \(declared) bytes, over the limit of \(limit)"))
            }
            do {
                let body = try await response.body.collect(upTo: Int(clamping: limit))
                guard body.readableBytes > 0 else { return .failure(.unavailable("source_url \(current) is empty")) }
                return .success(body)
            } catch is NIOTooManyBytesError {
                return .failure(.tooLarge("source_url \(current) is over the limit of \(limit) bytes"))
            } catch {
                return .failure(.unavailable("source_url \(current): \(error)"))
            }
        }
        return .failure(.refused("source_url \(url): more than \(settings.maxRedirects) redirects"))
    }
}
