/// One output of a job: how to derive it from the source and how to encode it.
///
/// Built only through ``PipelineDecoder`` (JSON or compact form), so every instance is valid.
public struct VariantSpec: Sendable, Equatable {
    public var id: String
    public var action: Action
    /// The target box in pixels; `nil` means unconstrained on that side (resize and crop only).
    public var width: Int?
    public var height: Int?
    public var format: OutputFormat
    /// 1–100; `nil` means the format's default. Ignored by PNG and GIF (accepted for the original API).
    public var quality: Int?
    /// Encoder CPU effort; `nil` means the format's default (see ``OutputFormat/defaultEffort``).
    public var effort: Int?
    public var lossless: Bool
    public var progressive: Bool
    /// Remove EXIF, XMP and ICC metadata from the output.
    public var strip: Bool
    /// Flattening colour for JPEG and padding colour for `contain`; `nil` means the default described on ``Action/contain``.
    public var background: RGBColour?
    public var gravity: Gravity
    /// The rectangle for `crop`, in the source's pixels after EXIF orientation.
    public var crop: CropRect?
    public var rotate: Rotation
    /// Mirror top–bottom.
    public var flip: Bool
    /// Mirror left–right.
    public var flop: Bool
    /// Gaussian blur sigma.
    public var blur: Double?
    /// Sharpen sigma.
    public var sharpen: Double?
    /// Allow output larger than the source.
    public var enlarge: Bool

    public init(
        id: String, action: Action, width: Int? = nil, height: Int? = nil, format: OutputFormat,
        quality: Int? = nil, effort: Int? = nil, lossless: Bool = false, progressive: Bool = false,
        strip: Bool = true, background: RGBColour? = nil, gravity: Gravity = .centre, crop: CropRect? = nil,
        rotate: Rotation = .none, flip: Bool = false, flop: Bool = false, blur: Double? = nil,
        sharpen: Double? = nil, enlarge: Bool = false
    ) {
        self.id = id
        self.action = action
        self.width = width
        self.height = height
        self.format = format
        self.quality = quality
        self.effort = effort
        self.lossless = lossless
        self.progressive = progressive
        self.strip = strip
        self.background = background
        self.gravity = gravity
        self.crop = crop
        self.rotate = rotate
        self.flip = flip
        self.flop = flop
        self.blur = blur
        self.sharpen = sharpen
        self.enlarge = enlarge
    }

    public var effectiveQuality: Int { quality ?? format.defaultQuality }
    public var effectiveEffort: Int { effort ?? format.defaultEffort }
}

public enum Action: String, Sendable, CaseIterable {
    /// Fit inside the box, keeping the aspect ratio; one side may be absent.
    case resize
    /// Fill the box exactly, cropping the overflow around `gravity`.
    case cover
    /// Fit inside the box and pad to it with `background` (default: transparent when the
    /// output format has alpha and the image has alpha, white otherwise).
    case contain
    /// Cut `crop` out of the source, then optionally fit it inside the box.
    case crop
}

public enum Gravity: String, Sendable, CaseIterable {
    case centre
    /// The region libvips' saliency estimate finds most interesting.
    case attention
    /// The region with the most entropy.
    case entropy
}

public enum Rotation: Int, Sendable, CaseIterable {
    case none = 0
    case quarter = 90
    case half = 180
    case threeQuarters = 270
}

public struct CropRect: Sendable, Equatable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

public struct RGBColour: Sendable, Equatable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let white = RGBColour(red: 255, green: 255, blue: 255)

    /// Parses `#rgb` or `#rrggbb` (the `#` is optional).
    public init?(hex: String) {
        var digits = Substring(hex)
        if digits.hasPrefix("#") { digits = digits.dropFirst() }
        guard digits.allSatisfy(\.isHexDigit) else { return nil }
        let expanded: String
        switch digits.count {
        case 3: expanded = digits.map { "\($0)\($0)" }.joined()
        case 6: expanded = String(digits)
        default: return nil
        }
        guard let value = UInt32(expanded, radix: 16) else { return nil }
        self.init(red: UInt8(value >> 16 & 0xFF), green: UInt8(value >> 8 & 0xFF), blue: UInt8(value & 0xFF))
    }
}
