import Foundation
import PixelFlowPipeline
import Synchronization
import Testing

@testable import PixelFlowImaging

extension ImagingTests {
    /// The memory budget that decodes share: who waits, in which order, and what a stopped waiter leaves behind.
    @Suite struct DecodeBudgetTests {
        /// Acquires on a thread of its own and records when it got its share (or its error).
        final class Waiter: Sendable {
            let done = Mutex<Result<DecodeBudget.Share, ImagingError>?>(nil)

            static func start(
                _ budget: DecodeBudget, bytes: Int, control: JobControl = JobControl(timeout: .seconds(30))
            ) -> Waiter {
                let waiter = Waiter()
                Thread {
                    let result = Result { () throws(ImagingError) in try budget.acquire(bytes, control: control) }
                    waiter.done.withLock { $0 = result }
                }.start()
                return waiter
            }

            var share: DecodeBudget.Share? { done.withLock { try? $0?.get() } }
            var failure: ImagingError? {
                done.withLock {
                    guard case .failure(let error) = $0 else { return nil }
                    return error
                }
            }
            var isWaiting: Bool { done.withLock { $0 == nil } }
        }

        static func eventually(_ condition: () -> Bool) async throws -> Bool {
            for _ in 0..<500 {
                if condition() { return true }
                try await Task.sleep(for: .milliseconds(10))
            }
            return condition()
        }

        @Test func sharesThatFitDoNotWait() throws {
            let budget = DecodeBudget(capacity: 100)
            let control = JobControl(timeout: .seconds(30))
            var first = try budget.acquire(60, control: control)
            var second = try budget.acquire(40, control: control)
            #expect(budget.bytesHeld == 100)
            budget.release(&first, bytes: 20)
            #expect(first.bytes == 40 && budget.bytesHeld == 80)
            budget.release(&first)
            budget.release(&second)
            budget.release(&second)
            #expect(budget.bytesHeld == 0)
        }

        @Test func aShareThatDoesNotFitWaitsForARelease() async throws {
            let budget = DecodeBudget(capacity: 100)
            var holder = try budget.acquire(70, control: JobControl(timeout: .seconds(30)))
            let waiter = Waiter.start(budget, bytes: 50)
            try await Task.sleep(for: .milliseconds(150))
            #expect(waiter.isWaiting)
            budget.release(&holder, bytes: 30)  // 40 held: 50 more fits
            #expect(try await Self.eventually { waiter.share != nil })
            #expect(waiter.share?.bytes == 50 && budget.bytesHeld == 90)
        }

        @Test func aSmallShareDoesNotPassOneThatWaits() async throws {
            let budget = DecodeBudget(capacity: 100)
            var holder = try budget.acquire(60, control: JobControl(timeout: .seconds(30)))
            let large = Waiter.start(budget, bytes: 80)
            try await Task.sleep(for: .milliseconds(100))
            let small = Waiter.start(budget, bytes: 10)  // would fit beside the holder, but the large one came first
            try await Task.sleep(for: .milliseconds(150))
            #expect(large.isWaiting && small.isWaiting)
            budget.release(&holder)
            #expect(try await Self.eventually { large.share != nil && small.share != nil })
            #expect(budget.bytesHeld == 90)
        }

        @Test func aShareLargerThanTheBudgetRunsAlone() async throws {
            let budget = DecodeBudget(capacity: 100)
            var small = try budget.acquire(1, control: JobControl(timeout: .seconds(30)))
            let huge = Waiter.start(budget, bytes: 5_000)
            try await Task.sleep(for: .milliseconds(150))
            #expect(huge.isWaiting)
            budget.release(&small)
            #expect(try await Self.eventually { huge.share != nil })
            #expect(huge.share?.bytes == 100 && budget.bytesHeld == 100)
        }

        @Test func aWaiterPastItsDeadlineFailsAndLetsTheNextIn() async throws {
            let budget = DecodeBudget(capacity: 100)
            var holder = try budget.acquire(90, control: JobControl(timeout: .seconds(30)))
            let impatient = JobControl(timeout: .milliseconds(100))
            impatient.startClock()
            let first = Waiter.start(budget, bytes: 60, control: impatient)
            try await Task.sleep(for: .milliseconds(20))
            let second = Waiter.start(budget, bytes: 20)
            #expect(try await Self.eventually { first.failure != nil })
            #expect(first.failure?.code == .timeout)
            #expect(second.isWaiting)  // 90 + 20 does not fit either
            budget.release(&holder, bytes: 10)
            #expect(try await Self.eventually { second.share != nil })
            #expect(budget.bytesHeld == 100)
        }

        @Test func anEngineWithABudgetOfOneByteStillRunsEveryJob() async throws {
            let engine = ImagingEngine(threads: 2, limits: ImagingLimits(decodeBudgetBytes: 1))
            let source = Fixtures.encode(Fixtures.noise(width: 400, height: 300), as: .jpeg)
            let pipeline = try Pipeline([VariantSpec(id: "small", action: .resize, width: 64, format: .png)])
            let widths = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await engine.process(source: source, pipeline: pipeline).variants[0].width }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(widths == Array(repeating: 64, count: 6))
        }

        static func header(
            _ format: SourceFormat, width: Int = 4000, height: Int = 3000, bands: Int = 3, interlaced: Bool = false
        ) -> SourceHeader {
            SourceHeader(
                format: format, width: width, height: height, frames: 1, orientation: 1, hasProfile: false,
                isCMYK: false, bands: bands, isInterlaced: interlaced)
        }

        @Test func footprintsCountWhatEachDecoderHolds() throws {
            let pipeline = try Pipeline([VariantSpec(id: "large", action: .resize, width: 1000, format: .webp)])
            let plan = DecodePlan(pipeline: pipeline, sourceWidth: 4000, sourceHeight: 3000)
            let box = 1000 * 750 * 4
            func footprint(_ header: SourceHeader) -> DecodeFootprint { DecodeFootprint(header: header, plan: plan) }

            let jpeg = footprint(Self.header(.jpeg))
            #expect(jpeg.frameBytes == 0 && jpeg.baseBytes == box)
            #expect(footprint(Self.header(.jpeg, interlaced: true)).frameBytes == 12_000_000 * 6)
            #expect(footprint(Self.header(.heif)).frameBytes == 12_000_000 * 5)
            #expect(footprint(Self.header(.png)).frameBytes == 0)
            #expect(footprint(Self.header(.png, bands: 4)).frameBytes == 12_000_000 * 4)
            #expect(footprint(Self.header(.png, interlaced: true)).frameBytes == 12_000_000 * 4)
            let webp = footprint(Self.header(.webp))
            #expect(webp.frameBytes == box && webp.baseBytes == box)
            #expect(footprint(Self.header(.gif)).frameBytes == 12_000_000 * 8)
            #expect(footprint(Self.header(.tiff)).totalBytes == box)
        }

        @Test func aHugeDeclaredSizeSaturatesInsteadOfOverflowing() throws {
            let side = Int(Int32.max)
            let plan = DecodePlan(
                pipeline: try Pipeline([VariantSpec(id: "big", action: .resize, width: 16384, format: .png)]),
                sourceWidth: side, sourceHeight: side)
            let footprint = DecodeFootprint(header: Self.header(.heif, width: side, height: side), plan: plan)
            #expect(footprint.totalBytes > 1 << 60)
        }

        /// The header tells the decoders that hold a whole image from those that stream.
        @Test func headersSayWhichSourcesAreInterlaced() throws {
            let noise = Fixtures.noise(width: 64, height: 48)
            func inspect(_ bytes: [UInt8]) throws -> SourceHeader {
                try bytes.withUnsafeBytes { buffer throws(ImagingError) in
                    try SourceInspector.inspect(buffer, limits: .default)
                }
            }
            #expect(try inspect(Fixtures.encode(noise, as: .jpeg, progressive: true)).isInterlaced)
            #expect(try !inspect(Fixtures.encode(noise, as: .jpeg)).isInterlaced)
            let png = Fixtures.encode(noise, as: .png)
            #expect(try !inspect(png).isInterlaced && inspect(png).bands == 3)
            var adam7 = png
            adam7[28] = 1  // IHDR's interlace method
            #expect(png.withUnsafeBytes { !SourceInspector.isAdam7PNG($0) })
            #expect(adam7.withUnsafeBytes { SourceInspector.isAdam7PNG($0) })
            #expect([UInt8](png.prefix(20)).withUnsafeBytes { !SourceInspector.isAdam7PNG($0) })
        }
    }
}
