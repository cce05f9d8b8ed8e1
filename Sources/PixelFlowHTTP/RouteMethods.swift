import Hummingbird
import PixelFlowLocking

/// The methods each route path answers, so a request for a known path with another method is told 405 and
/// `Allow` rather than 404. Filled once the router's routes are added (the error middleware comes first).
final class RouteMethods: Sendable {
    private let table = Locked<[(segments: [Substring], methods: [String])]>([])

    func learn(_ routes: [Router<APIRequestContext>.RouteDescription]) {
        var byPath: [String: [String]] = [:]
        for route in routes { byPath["\(route.path)", default: []].append(route.method.rawValue) }
        table.withLock { table in
            table = byPath.map { path, methods in
                (path.split(separator: "/"), methods.sorted())
            }
        }
    }

    /// The methods the path answers, or nil when no route has this path.
    func methods(for path: String) -> [String]? {
        let segments = path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
        return table.withLock { table in
            table.first { route in
                route.segments.count == segments.count
                    && zip(route.segments, segments).allSatisfy { pattern, segment in
                        pattern.hasPrefix("{") || pattern == segment
                    }
            }?.methods
        }
    }
}
