import Foundation
import PixelFlowProtocol
import Testing

extension LiveCluster {
    /// `limits.max_connections` against a real coordinator: the connection over the limit is closed on arrival,
    /// the ones inside it are served, and a place freed is taken again.
    @Suite("Connection limit of a real coordinator", .serialized)
    struct ConnectionLimitTests {
        @Test("with max_connections 3 the fourth connection is closed unanswered; once one leaves, a new one is served")
        func limit() async throws {
            let cluster = try ClusterProcesses(extraConfig: ["limits": ["max_connections": 3]])
            try cluster.startCoordinator()
            var held: [RawConnection] = []
            for _ in 0..<3 {
                let connection = try RawConnection(port: cluster.port)
                _ = try connection.handshake(keyID: "acme", secret: ClusterProcesses.tenantSecret)
                held.append(connection)
            }
            #expect(try await cluster.metric("pixelflow_connections_open") == 3)

            let refused = try RawConnection(port: cluster.port)  // the kernel accepts; the coordinator closes
            refused.send(.preface(.supported))
            let result = try refused.drainUntilClosed()
            #expect(result.closed)
            #expect(result.elements.isEmpty, "nothing is sent to a connection over the limit")
            #expect(try await cluster.metric("pixelflow_connections_refused_total") == 1)

            held.removeLast().reset()
            let deadline = ContinuousClock.now + .seconds(10)
            while try await cluster.metric("pixelflow_connections_open") != 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let next = try RawConnection(port: cluster.port)
            _ = try next.handshake(keyID: "acme", secret: ClusterProcesses.tenantSecret)
            #expect(try await cluster.metric("pixelflow_connections_open") == 3)
            #expect(try await cluster.metric("pixelflow_connections_refused_total") == 1)
        }
    }
}
