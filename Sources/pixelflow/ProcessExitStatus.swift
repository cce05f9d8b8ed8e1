import ArgumentParser
import Foundation
import PixelFlowBatch
import PixelFlowImaging

extension PixelFlowCommand {
    /// Usage errors exit with 2, as `pixelflow process` documents.
    static func main() async {
        MemoryTuning.limitMallocArenas()
        await runExitingTwoOnUsageError()
    }
}
