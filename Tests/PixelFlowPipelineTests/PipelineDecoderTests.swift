import Foundation
import Testing

@testable import PixelFlowPipeline

@Suite struct PipelineDecoderTests {
    private func decode(_ json: String) throws(PipelineError) -> Pipeline {
        try PipelineDecoder.decode(json: Data(json.utf8))
    }

    private func field(of json: String) -> String? {
        do {
            _ = try decode(json)
            return nil
        } catch {
            #expect(error.code == "invalid_pipeline")
            return error.field
        }
    }

    @Test func acceptsTheOriginalJobShape() throws {
        let pipeline = try decode(
            """
            {"source_type": "inline", "webhook_url": "https://client.example/hooks/done",
             "pipeline": [{"id": "thumb_small", "action": "resize", "width": 150, "format": "webp", "quality": 80}]}
            """)
        #expect(
            pipeline.variants == [
                VariantSpec(id: "thumb_small", action: .resize, width: 150, format: .webp, quality: 80)
            ])
    }

    @Test func acceptsABareArrayWithEveryExtraField() throws {
        let pipeline = try decode(
            """
            [{"id": "a", "action": "cover", "width": 300, "height": 200, "format": "jpg", "quality": 70,
              "progressive": true, "strip": false, "background": "#f00", "gravity": "attention",
              "rotate": 90, "flip": true, "flop": true, "blur": 1.5, "sharpen": true, "enlarge": true},
             {"id": "b", "action": "crop", "crop": {"x": 1, "y": 2, "width": 30, "height": 40}, "format": "webp",
              "lossless": true, "effort": 6, "background": [0, 128, 255]}]
            """)
        let cover = pipeline.variants[0]
        #expect(cover.format == .jpeg && cover.progressive && !cover.strip && cover.gravity == .attention)
        #expect(cover.background == RGBColour(red: 255, green: 0, blue: 0))
        #expect(
            cover.rotate == .quarter && cover.flip && cover.flop && cover.blur == 1.5 && cover.sharpen == 1.0
                && cover.enlarge)
        let crop = pipeline.variants[1]
        #expect(crop.crop == CropRect(x: 1, y: 2, width: 30, height: 40))
        #expect(
            crop.lossless && crop.effectiveEffort == 6 && crop.background == RGBColour(red: 0, green: 128, blue: 255))
        #expect(crop.strip, "strip defaults to true")
    }

    @Test(arguments: [
        (#"[{"id":"a","action":"stretch","width":10,"format":"png"}]"#, "pipeline[0].action"),
        (#"[{"id":"a","action":"resize","width":10,"format":"bmp"}]"#, "pipeline[0].format"),
        (#"[{"id":"a","action":"resize","width":0,"format":"png"}]"#, "pipeline[0].width"),
        (#"[{"id":"a","action":"resize","width":-5,"format":"png"}]"#, "pipeline[0].width"),
        (#"[{"id":"a","action":"resize","height":99999,"format":"png"}]"#, "pipeline[0].height"),
        (#"[{"id":"a","action":"resize","width":"big","format":"png"}]"#, "pipeline[0].width"),
        (#"[{"id":"a","action":"resize","format":"png"}]"#, "pipeline[0].width"),
        (#"[{"id":"a","action":"cover","width":10,"format":"png"}]"#, "pipeline[0].height"),
        (#"[{"id":"a","action":"crop","format":"png"}]"#, "pipeline[0].crop"),
        (#"[{"id":"a","action":"resize","width":10,"format":"png","quality":101}]"#, "pipeline[0].quality"),
        (#"[{"id":"a","action":"resize","width":10,"format":"png","quality":0}]"#, "pipeline[0].quality"),
        (#"[{"id":"a","action":"resize","width":10,"format":"jpeg","effort":3}]"#, "pipeline[0].effort"),
        (#"[{"id":"a","action":"resize","width":10,"format":"avif","effort":10}]"#, "pipeline[0].effort"),
        (#"[{"id":"a","action":"resize","width":10,"format":"jpeg","lossless":true}]"#, "pipeline[0].lossless"),
        (#"[{"id":"a","action":"resize","width":10,"format":"png","rotate":45}]"#, "pipeline[0].rotate"),
        (#"[{"id":"a","action":"resize","width":10,"format":"png","gravity":"attention"}]"#, "pipeline[0].gravity"),
        (#"[{"id":"a","action":"resize","width":10,"format":"png","colour":"red"}]"#, "pipeline[0].colour"),
        (##"[{"id":"a","action":"resize","width":10,"format":"png","background":"#12"}]"##, "pipeline[0].background"),
        (#"[{"id":"../etc","action":"resize","width":10,"format":"png"}]"#, "pipeline[0].id"),
        (#"[{"id":"","action":"resize","width":10,"format":"png"}]"#, "pipeline[0].id"),
        (
            #"[{"id":"a","action":"resize","width":10,"format":"png"},{"id":"a","action":"resize","width":20,"format":"png"}]"#,
            "pipeline[1].id"
        ),
        (#"[]"#, "pipeline"),
        (#"{"pipeline": 3}"#, "pipeline"),
        (#"{"source_type": "inline"}"#, "pipeline"),
        (
            #"[{"id":"a","action":"crop","crop":{"x":0,"y":0,"width":0,"height":5},"format":"png"}]"#,
            "pipeline[0].crop.width"
        ),
    ])
    func rejectsWithTheFieldNamed(json: String, expectedField: String) {
        #expect(field(of: json) == expectedField)
    }

    @Test func rejectsMoreThanSixteenVariants() {
        let variants = (0..<17).map { #"{"id":"v\#($0)","action":"resize","width":10,"format":"png"}"# }
        #expect(field(of: "[\(variants.joined(separator: ","))]") == "pipeline")
        let sixteen = (0..<16).map { #"{"id":"v\#($0)","action":"resize","width":10,"format":"png"}"# }
        #expect(field(of: "[\(sixteen.joined(separator: ","))]") == nil)
    }

    @Test func rejectsMalformedJSONWithAMessage() {
        #expect(throws: PipelineError.self) { try decode("[{") }
    }

    @Test func errorMessageNamesFieldAndValue() {
        do {
            _ = try decode(#"[{"id":"a","action":"resize","width":20000,"format":"png"}]"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "pipeline[0].width: must be between 1 and 16384, got 20000")
        }
    }

    @Test func canonicalPipelineMatchesDesign() {
        let ids = Pipeline.canonical.variants.map {
            "\($0.id):\($0.width ?? 0):\($0.format.rawValue):\($0.effectiveQuality)"
        }
        #expect(ids == ["thumb:150:webp:80", "medium:800:jpeg:85", "large:1600:webp:75"])
    }
}

@Suite struct CompactVariantTests {
    @Test func parsesEveryPart() throws {
        let pipeline = try PipelineDecoder.decode(compact: [
            "thumb:resize:150:webp:q=80",
            "sq:cover:300x200:avif:gravity=entropy:effort=2:flip",
            "tall:resize:x400:png",
            "face:crop:-:jpeg:crop=10,20,300,200:background=#00ff00",
        ])
        #expect(
            pipeline.variants[0] == VariantSpec(id: "thumb", action: .resize, width: 150, format: .webp, quality: 80))
        #expect(
            pipeline.variants[1]
                == VariantSpec(
                    id: "sq", action: .cover, width: 300, height: 200, format: .avif, effort: 2, gravity: .entropy,
                    flip: true))
        #expect(pipeline.variants[2].width == nil && pipeline.variants[2].height == 400)
        #expect(pipeline.variants[3].crop == CropRect(x: 10, y: 20, width: 300, height: 200))
        #expect(pipeline.variants[3].background == RGBColour(red: 0, green: 255, blue: 0))
    }

    @Test(arguments: [
        ("thumb:resize:150", "--variant[0]"),
        ("thumb:resize:abc:webp", "--variant[0].size"),
        ("thumb:zoom:150:webp", "--variant[0].action"),
        ("thumb:resize:150:webp:quality=0", "--variant[0].quality"),
        ("thumb:crop:-:png:crop=1,2,3", "--variant[0].crop"),
        ("thumb:resize:150:webp:q=80:quality=70", "--variant[0].quality"),
    ])
    func rejectsWithTheFieldNamed(text: String, expectedField: String) {
        do {
            _ = try PipelineDecoder.decode(compact: [text])
            Issue.record("expected \(text) to be rejected")
        } catch {
            #expect(error.field == expectedField)
        }
    }
}
