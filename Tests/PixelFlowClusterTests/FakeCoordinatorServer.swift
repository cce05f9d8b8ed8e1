import Foundation
import NIOCore
import PixelFlowProtocol

/// A listening socket that plays the coordinator towards a real `pixelflow worker` process: it runs the real
/// server handshake, answers REGISTER, and then sends exactly the frames a test wants.
final class FakeCoordinatorServer {
    let descriptor: Int32
    let port: Int
    let limits: ProtocolLimits

    init(limits: ProtocolLimits = .default) throws {
        self.limits = limits
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            close(descriptor)
            throw ClusterProcesses.Failure("fake coordinator: bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }

    var address: String { "127.0.0.1:\(port)" }

    /// The next connection, accepted and never answered (a coordinator that hangs); nil if none comes within
    /// `timeout`. The caller closes the returned descriptor.
    func acceptSilently(timeout: Duration) -> Int32? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        let accepted = accept(descriptor, nil, nil)
        return accepted >= 0 ? accepted : nil
    }

    /// The next worker connection, authenticated and registered; nil if none comes within `timeout`.
    func acceptWorker(
        timeout: Duration = .seconds(10), heartbeatMilliseconds: UInt32 = 1_000
    ) throws -> (connection: RawConnection, register: Register)? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        let accepted = accept(descriptor, nil, nil)
        guard accepted >= 0 else { return nil }
        let connection = RawConnection(accepted: accepted, from: [.worker], limits: limits)
        let secrets = StaticSecrets([.init(keyID: "worker", role: .worker): Array(ClusterProcesses.joinSecret.utf8)])
        var handshake = ServerHandshakeStateMachine(
            secrets: secrets, limits: limits, heartbeatIntervalMilliseconds: heartbeatMilliseconds)
        while let element = try connection.receive() {
            switch handshake.receive(element) {
            case .send(let elements): elements.forEach(connection.send)
            case .established(_, let reply):
                connection.send(reply)
                guard case .frame(let frame)? = try connection.receive(), case .register(let register) = frame.message
                else {
                    throw ClusterProcesses.Failure("the worker did not REGISTER")
                }
                connection.send(.frame(Frame(.registered(Registered(workerID: 1)))))
                return (connection, register)
            case .fail(let error, _): throw error
            case .none: continue
            }
        }
        return nil
    }
}

extension RawConnection {
    /// Frames until one satisfies `match` (heartbeats and the like are skipped); nil on close or timeout.
    func receive(until match: (Frame) -> Bool) throws -> Frame? {
        while let element = try receive() {
            if case .frame(let frame) = element, match(frame) { return frame }
        }
        return nil
    }
}
