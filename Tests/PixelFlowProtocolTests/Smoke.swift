import Testing
@testable import PixelFlowProtocol

