import Testing
@testable import PixelFlowImaging

