import Foundation
import NIOCore
import PixelFlowProtocol

/// A plain blocking TCP socket to the coordinator, for sending exactly the bytes a test wants (garbage,
/// lies, silence) and reading back what the coordinator answers.
/// Used by one task at a time (a test hands it to a detached task to read while it does something else).
final class RawConnection: @unchecked Sendable {
    let descriptor: Int32
    private var received = ByteBuffer()
    private var decoder: FrameDecoder

    /// An accepted socket, on the coordinator's side of a link (a fake coordinator talking to a worker).
    init(
        accepted descriptor: Int32, from senders: Set<PeerRole>, limits: ProtocolLimits = .default,
        timeout: Duration = .seconds(5)
    ) {
        self.descriptor = descriptor
        decoder = FrameDecoder(limits: limits, from: senders)
        setTimeout(timeout)
    }

    /// Receive-buffer size for this socket: small, to play a client that reads slowly or not at all.
    func setReceiveBuffer(_ bytes: Int32) {
        var size = bytes
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    func setTimeout(_ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var limit = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Closes with a reset (SO_LINGER 0): no TIME_WAIT, so loops of many connections do not run out of ports.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    init(port: Int, timeout: Duration = .seconds(5)) throws {
        decoder = FrameDecoder(from: [.coordinator])
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw ClusterProcesses.Failure("connect to port \(port) failed: errno \(errno)")
        }
        setTimeout(timeout)
    }

    deinit { close(descriptor) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func send(_ element: WireElement) {
        var buffer = ByteBuffer()
        FrameEncoder().encode(data: element, out: &buffer)
        send(Array(buffer.readableBytesView))
    }

    /// The next element from the coordinator; nil when it closed the connection (or the read timed out).
    func receive() throws -> WireElement? {
        while true {
            if let element = try decoder.decode(buffer: &received) { return element }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            received.writeBytes(chunk[0..<count])
        }
    }

    /// Reads until the coordinator closes; returns what arrived (GOAWAY, typically) and whether it did close.
    func drainUntilClosed() throws -> (elements: [WireElement], closed: Bool) {
        var elements: [WireElement] = []
        while true {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            // A reset is a close too: the coordinator closed with bytes of ours unread.
            if count == 0 || (count < 0 && errno == ECONNRESET) { break }
            if count < 0 { return (elements, false) }  // timed out: still open
            received.writeBytes(chunk[0..<count])
            while let element = try decoder.decode(buffer: &received) { elements.append(element) }
        }
        while let element = try decoder.decode(buffer: &received) { elements.append(element) }
        return (elements, true)
    }

    /// Runs the client handshake; returns the established session or throws the coordinator's refusal.
    @discardableResult
    func handshake(
        keyID: String, secret: String, role: PeerRole = .client
    ) throws -> ClientHandshakeStateMachine.Session {
        var machine = ClientHandshakeStateMachine(role: role, keyID: keyID, secret: Array(secret.utf8))
        send(machine.opening)
        while let element = try receive() {
            switch machine.receive(element) {
            case .send(let elements): elements.forEach(send)
            case .established(let session): return session
            case .fail(let error): throw error
            case .none: continue
            }
        }
        throw ClusterProcesses.Failure("connection closed during the handshake")
    }
}
