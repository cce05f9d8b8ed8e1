import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// moto's S3-compatible server (`moto_server`, from PyPI; deploy/install-deps.sh installs it) on a free loopback
/// port, stopped by its PID when the test's value goes.
///
/// With `checkSignatures`, moto checks every request's SigV4 `Authorization` header against an IAM user it holds:
/// the first requests (unauthenticated) create that user and its key, every later one must be signed with it.
/// moto does not check presigned URLs' signatures or expiry.
final class MotoServer: @unchecked Sendable {
    let process = Process()
    let port: Int
    let log: URL

    static var executable: String? {
        let tools =
            ProcessInfo.processInfo.environment["PIXELFLOW_TOOLS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/share/pixelflow/tools")
            .path
        let candidates = ["\(tools)/bin/moto_server", "/usr/local/bin/moto_server", "/usr/bin/moto_server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The IAM requests `start(checkSignatures: true)` lets through before it checks signatures.
    static let unauthenticatedSetupRequests = 4

    init(checkSignatures: Bool = false) throws {
        guard let executable = Self.executable else {
            throw Failure("moto_server is not installed (deploy/install-deps.sh installs it)")
        }
        port = try Self.freePort()
        log = FileManager.default.temporaryDirectory.appendingPathComponent("moto-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-H", "127.0.0.1", "-p", "\(port)"]
        var environment = ProcessInfo.processInfo.environment
        if checkSignatures { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "\(Self.unauthenticatedSetupRequests)" }
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if Self.isListening(port) { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw Failure("moto_server did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    deinit { stop() }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: log)
    }

    /// Creates an IAM user allowed every S3 action and returns its access key (id, secret), with moto's IAM query
    /// API — the unauthenticated requests a `checkSignatures` server lets through first.
    func createS3User() async throws -> (id: String, secret: String) {
        _ = try await iam(["Action": "CreateUser", "UserName": "pixelflow"])
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        _ = try await iam([
            "Action": "PutUserPolicy", "UserName": "pixelflow", "PolicyName": "s3", "PolicyDocument": policy,
        ])
        let reply = try await iam(["Action": "CreateAccessKey", "UserName": "pixelflow"])
        func element(_ name: String) -> String? {
            guard let start = reply.range(of: "<\(name)>"), let end = reply.range(of: "</\(name)>") else { return nil }
            return String(reply[start.upperBound..<end.lowerBound])
        }
        guard let id = element("AccessKeyId"), let secret = element("SecretAccessKey") else {
            throw Failure("CreateAccessKey: \(reply)")
        }
        return (id, secret)
    }

    private func iam(_ parameters: [String: String]) async throws -> String {
        var request = URLRequest(url: URL(string: "\(endpoint)/")!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        // moto routes a request to IAM by the service in its credential scope.
        request.setValue(
            "AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
            forHTTPHeaderField: "Authorization")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let form = (parameters.merging(["Version": "2010-05-08"]) { first, _ in first })
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.value)" }
            .joined(separator: "&")
        request.httpBody = Data(form.utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        return String(decoding: data, as: UTF8.self)
    }

    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else { throw Failure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func isListening(_ port: Int) -> Bool {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
