import NIOCore

/// What crosses a PixelFlow connection: the preface once, then frames.
public enum WireElement: Sendable, Hashable {
    case preface(Preface)
    case frame(Frame)
}

extension WireElement {
    /// Appends the element's bytes: the preface, or the frame's header and payload.
    public func write(to buffer: inout ByteBuffer) {
        switch self {
        case .preface(let preface): preface.write(to: &buffer)
        case .frame(let frame): frame.write(to: &buffer)
        }
    }
}
