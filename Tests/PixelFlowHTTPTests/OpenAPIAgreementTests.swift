import Foundation
import Hummingbird
import PixelFlowCoordinator
import Testing

@testable import PixelFlowHTTP

/// proto/openapi.yaml and the server's router list the same routes, method for method.
@Suite struct OpenAPIAgreementTests {
    static var document: String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("proto/openapi.yaml")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    /// "METHOD /path" for each operation under `paths:` (two-space path keys, four-space method keys).
    static func documentedRoutes(_ yaml: String) -> Set<String> {
        var routes: Set<String> = []
        var inPaths = false
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") { inPaths = line == "paths:" }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "put", "post", "delete", "patch"].contains(key) {
                    routes.insert("\(key.uppercased()) \(path)")
                }
            }
        }
        return routes
    }

    @Test func theDocumentAndTheRouterListTheSameRoutes() {
        let coordinator = Coordinator(settings: CoordinatorSettings(), tenants: [], workerKeys: [:])
        let router = APIService.router(coordinator: coordinator, maxJSONBytes: 1 << 20)
        // Hummingbird writes captures as {name}, as OpenAPI does.
        let served = Set(
            router.routes.map { "\($0.method.rawValue) \($0.path.description.hasPrefix("/") ? "" : "/")\($0.path)" })
        let documented = Self.documentedRoutes(Self.document)
        #expect(documented.count >= 10, "the document was read: \(documented)")
        #expect(
            served == documented,
            "served only: \(served.subtracting(documented)); documented only: \(documented.subtracting(served))")
    }

    @Test func theDocumentIsOpenAPI31AndEveryReferenceResolves() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", root.appendingPathComponent("tools/check-openapi.py").path,
            root.appendingPathComponent("proto/openapi.yaml").path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "tools/check-openapi.py: \(text)")
    }
}
