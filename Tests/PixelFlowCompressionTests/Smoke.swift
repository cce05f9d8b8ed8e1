import Testing
@testable import PixelFlowCompression

