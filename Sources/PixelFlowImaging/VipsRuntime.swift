import CVipsShim

/// libvips, initialised once per process.
public enum VipsRuntime {
    public static let version: String = {
        String(cString: vips_version_string())
    }()
}
