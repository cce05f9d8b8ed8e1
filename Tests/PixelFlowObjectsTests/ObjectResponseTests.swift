import NIOCore
import Testing

@testable import PixelFlowObjects

@Suite("Reading an object of a known size")
struct ObjectResponseTests {
    @Test("exactly N bytes: asked with a limit one over; shorter, or longer (over that limit), is SizeMismatch")
    func exactSize() async throws {
        let read = try await ObjectResponse.exactly(3) { limit throws(ObjectStoreError) in
            #expect(limit == 4)
            return ByteBuffer(bytes: [1, 2, 3])
        }
        #expect(Array(read.readableBytesView) == [1, 2, 3])
        let short = await #expect(throws: ObjectStoreError.self) {
            _ = try await ObjectResponse.exactly(3) { _ throws(ObjectStoreError) in ByteBuffer(bytes: [1, 2]) }
        }
        #expect(short?.code == "SizeMismatch")
        let long = await #expect(throws: ObjectStoreError.self) {
            _ = try await ObjectResponse.exactly(3) { limit throws(ObjectStoreError) in
                throw ObjectStoreError(code: "EntityTooLarge", message: "the object is over \(limit) bytes")
            }
        }
        #expect(long?.code == "SizeMismatch")
        let down = await #expect(throws: ObjectStoreError.self) {
            _ = try await ObjectResponse.exactly(3) { _ throws(ObjectStoreError) in
                throw ObjectStoreError(code: "Unreachable", message: "refused")
            }
        }
        #expect(down?.code == "Unreachable", "other failures pass through")
    }
}
