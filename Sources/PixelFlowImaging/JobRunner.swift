import PixelFlowPipeline

/// One job, start to end, on the calling (libvips) thread: inspect, decode once, derive and encode each variant.
enum JobRunner {
    static func run(
        source: [UInt8], pipeline: Pipeline, limits: ImagingLimits, budget: DecodeBudget, control: JobControl,
        emit: (JobEvent) -> Void
    ) -> Result<Void, ImagingError> {
        control.startClock()
        defer { control.finish() }
        return source.withUnsafeBytes { bytes -> Result<Void, ImagingError> in
            do throws(ImagingError) {
                try runJob(bytes, pipeline: pipeline, limits: limits, budget: budget, control: control, emit: emit)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
    }

    private static func runJob(
        _ bytes: UnsafeRawBufferPointer, pipeline: Pipeline, limits: ImagingLimits, budget: DecodeBudget,
        control: JobControl, emit: (JobEvent) -> Void
    ) throws(ImagingError) {
        try control.throwIfStopped()
        let header = try SourceInspector.inspect(bytes, limits: limits)
        try checkCrops(pipeline, against: header)

        let plan = DecodePlan(
            pipeline: pipeline, sourceWidth: header.orientedWidth, sourceHeight: header.orientedHeight)
        let footprint = DecodeFootprint(header: header, plan: plan)
        var share = try budget.acquire(footprint.totalBytes, control: control)
        defer { budget.release(&share) }

        let decodeStart = ContinuousClock.now
        let base = try SourceDecoder.decode(bytes, header: header, plan: plan, control: control)
        budget.release(&share, bytes: footprint.frameBytes)
        emit(
            .decoded(
                header, width: base.width, height: base.height,
                milliseconds: (ContinuousClock.now - decodeStart).milliseconds))

        let renderer = VariantRenderer(base: base, header: header)
        for spec in pipeline.variants {
            try control.throwIfStopped()
            let start = ContinuousClock.now
            do {
                let image = try renderer.render(spec)
                let data = try VariantEncoder.encode(image, spec: spec)
                emit(
                    .variant(
                        EncodedVariant(
                            id: spec.id, format: spec.format, width: image.width, height: image.height, data: data,
                            milliseconds: (ContinuousClock.now - start).milliseconds
                        )))
            } catch {
                try control.throwIfStopped()
                throw ImagingError(.internal, "variant \"\(spec.id)\": \(error.operation): \(error.message)")
            }
        }
        try control.throwIfStopped()
    }

    /// Crop rectangles may run past the edge (they are clamped) but must start inside the oriented source.
    static func checkCrops(_ pipeline: Pipeline, against header: SourceHeader) throws(ImagingError) {
        for (index, spec) in pipeline.variants.enumerated() {
            guard let rect = spec.crop else { continue }
            if rect.x >= header.orientedWidth || rect.y >= header.orientedHeight {
                throw ImagingError(
                    pipeline: PipelineError(
                        field: "pipeline[\(index)].crop",
                        "the rectangle starts at (\(rect.x), \(rect.y)), outside the \(header.orientedWidth)×\(header.orientedHeight) source (after EXIF orientation)"
                    ))
            }
        }
    }
}
