/// What crosses a PixelFlow connection: the preface once, then frames.
public enum WireElement: Sendable, Hashable {
    case preface(Preface)
    case frame(Frame)
}
