/// Encodings a variant can be written in.
public enum OutputFormat: String, Sendable, CaseIterable {
    case jpeg
    case png
    case webp
    case avif
    case heic
    case gif

    /// Accepts the canonical names plus the common spellings `jpg` and `heif`.
    public init?(name: String) {
        switch name.lowercased() {
        case "jpeg", "jpg": self = .jpeg
        case "png": self = .png
        case "webp": self = .webp
        case "avif": self = .avif
        case "heic", "heif": self = .heic
        case "gif": self = .gif
        default: return nil
        }
    }

    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .png: "png"
        case .webp: "webp"
        case .avif: "avif"
        case .heic: "heic"
        case .gif: "gif"
        }
    }

    /// The media type its files are served and stored with.
    public var mediaType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .webp: "image/webp"
        case .avif: "image/avif"
        case .heic: "image/heic"
        case .gif: "image/gif"
        }
    }

    public var hasAlpha: Bool {
        switch self {
        case .jpeg: false
        case .png, .webp, .avif, .heic, .gif: true
        }
    }

    public var defaultQuality: Int {
        switch self {
        case .jpeg: 85
        case .webp: 80
        case .avif: 50
        case .heic: 50
        case .png, .gif: 100
        }
    }

    /// The accepted `effort` range, or `nil` when the encoder has no such knob.
    public var effortRange: ClosedRange<Int>? {
        switch self {
        case .webp: 0...6
        case .avif, .heic: 0...9
        case .gif: 1...10
        case .jpeg, .png: nil
        }
    }

    /// AVIF and HEIC default to the lowest effort: at libheif's default (4) aom takes ~2.5 s for a
    /// 1600 px image on this machine kind, at 0 about a tenth of that (DESIGN §9).
    public var defaultEffort: Int {
        switch self {
        case .webp: 4
        case .avif, .heic: 0
        case .gif: 7
        case .jpeg, .png: 0
        }
    }
}
