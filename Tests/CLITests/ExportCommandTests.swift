import Checkpoints
import Explorer
import Foundation
import Imaging
import ModelRuntime
import Pooling
import TerminalCanvas
import Testing
import TestSupport

/// `simpool-explorer export` through the real binary, with a small model for speed.
struct ExportCommandTests {
    static let model = Fixtures.path("backbones/vit_cls.safetensors")
    static let common = ["--model", model, "--resolution", "32"]

    func export(_ arguments: [String]) throws -> CommandRunner.Result {
        try CommandRunner.run(["export"] + arguments + Self.common)
    }

    /// The map the engine computes for an image, the same way export does.
    func engineMap(_ image: String, method: String) throws -> MapComputation {
        let loaded = try LoadedModel.load(Self.model, resolution: 32)
        let result = try ImageLoader(model: loaded, labels: nil).load(path: image, resolution: 32)
        let computed = MapComputation.compute(trace: result.trace, specification: try MethodCatalog.parse(method)[0],
                                              context: .init(), layer: 1, head: .mean, isTransformer: true)
        return try computed.get()
    }

    @Test func everyFormatHoldsTheEnginesMap() throws {
        let directory = try Fixtures.temporaryDirectory()
        let image = Fixtures.samplePath("images/chelsea.png")
        let result = try export([image, "--out", directory.path, "--method", "gem:p=3", "--format", "png,overlay,npy,csv,json,ansi"])
        #expect(result.status == 0, "\(result.standardError)")
        let map = try engineMap(image, method: "gem:p=3")
        let stem = directory.appendingPathComponent("chelsea.gem-p3.L2.mean").path

        let npy = try NPYFile.read(path: stem + ".npy")
        #expect(npy.shape == [map.gridHeight, map.gridWidth])
        #expect(npy.scalars == map.result.map)

        let csv = try String(contentsOfFile: stem + ".csv", encoding: .utf8)
        let numbers = csv.split(whereSeparator: { $0 == "," || $0 == "\n" }).map { Float(String($0))! }
        #expect(numbers == map.result.map)
        #expect(csv.split(separator: "\n").count == map.gridHeight)

        let png = try ImageDecoder.decode(path: stem + ".png")
        #expect(png.width == map.gridWidth && png.height == map.gridHeight)
        let expected = MapProcessing.minMax(map.result.map).map(Colormap.viridis.color)
        #expect(png.rgbPixels == expected)

        let overlay = try ImageDecoder.decode(path: stem + ".overlay.png")
        #expect(overlay.width == 451 && overlay.height == 300)

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stem + ".json"))) as! [String: Any]
        #expect(json["image"] as? String == image)
        #expect(json["method"] as? String == "gem:p=3")
        #expect(json["layer"] as? Int == 2 && json["head"] as? String == "mean")
        #expect(json["grid"] as? [Int] == [map.gridHeight, map.gridWidth])
        #expect(json["architecture"] as? String == "ViT-48-wide/8 (timm/DeiT layout)")
        #expect(json["version"] as? String != nil && json["forward_ms"] as? Double != nil)

        let ansi = try String(contentsOfFile: stem + ".ansi.txt", encoding: .utf8)
        #expect(ansi.contains("\u{1B}[0;38;2;") && ansi.contains("gem:p=3"))
    }

    @Test func imageSizeMapsAreUpsampledPerPatch() throws {
        let directory = try Fixtures.temporaryDirectory()
        let image = Fixtures.samplePath("images/dog_segmentation.bmp")
        #expect(try export([image, "--out", directory.path, "--method", "how", "--format", "npy", "--size", "image"]).status == 0)
        let npy = try NPYFile.read(path: directory.appendingPathComponent("dog_segmentation.how.L2.mean.npy").path)
        #expect(npy.shape == [128, 128])
        let map = try engineMap(image, method: "how")
        #expect(npy.scalars == MapProcessing.nearest(map.result.map, gridHeight: map.gridHeight, gridWidth: map.gridWidth,
                                                     height: 128, width: 128))
    }

    @Test func shardsCoverEveryImageExactlyOnce() throws {
        let directory = try Fixtures.temporaryDirectory()
        let images = Fixtures.samplePath("images")
        var seen: [String] = []
        for k in 0..<3 {
            let shard = directory.appendingPathComponent("shard\(k)")
            #expect(try export([images, "--out", shard.path, "--method", "gap", "--format", "npy", "--shard", "\(k)/3"]).status == 0)
            seen += try FileManager.default.contentsOfDirectory(atPath: shard.path)
        }
        let all = try FileManager.default.contentsOfDirectory(atPath: images).filter { !$0.hasPrefix(".") }
        #expect(seen.count == all.count)
        #expect(Set(seen.map { String($0.split(separator: ".")[0]) }) == Set(all.map { String($0.split(separator: ".")[0]) }))
        #expect(ExportPlan.shard(["c", "a", "b", "d"], index: 1, count: 2) == ["b", "d"])
    }

    @Test func existingFilesAreKeptUnlessForced() throws {
        let directory = try Fixtures.temporaryDirectory()
        let image = Fixtures.samplePath("images/cat.bmp")
        let target = directory.appendingPathComponent("cat.gap.L2.mean.npy").path
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: target))
        let kept = try export([image, "--out", directory.path, "--method", "gap", "--format", "npy"])
        #expect(kept.status == 0)
        #expect(kept.standardError.contains("\(target): exists; kept (use --force to overwrite)"))
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me")
        #expect(try export([image, "--out", directory.path, "--method", "gap", "--format", "npy", "--force"]).status == 0)
        #expect(try NPYFile.read(path: target).shape.count == 2)
    }

    @Test func aCorruptImageInTheMiddleFailsAloneAndNothingIsHalfWritten() throws {
        let directory = try Fixtures.temporaryDirectory()
        let inputs = directory.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        for name in ["a.bmp", "c.bmp"] {
            try FileManager.default.copyItem(atPath: Fixtures.samplePath("images/dog_segmentation.bmp"),
                                             toPath: inputs.appendingPathComponent(name).path)
        }
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: Fixtures.samplePath("images/owl.jpg")))
        try jpeg.prefix(jpeg.count / 3).write(to: inputs.appendingPathComponent("b.jpg"))
        let out = directory.appendingPathComponent("out")
        let result = try export([inputs.path, "--out", out.path, "--method", "gap", "--format", "npy,json"])
        #expect(result.status == 1)
        let failures = result.standardError.split(separator: "\n").filter { $0.contains("b.jpg:") }
        #expect(failures.count == 1 && failures[0].contains("truncated"))
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(files == ["a.gap.L2.mean.json", "a.gap.L2.mean.npy", "c.gap.L2.mean.json", "c.gap.L2.mean.npy"])
    }

    @Test func anUnwritableFolderIsOneLinePerFile() throws {
        let result = try export([Fixtures.samplePath("images/cat.bmp"), "--out", "/proc/simpool-cannot-write", "--format", "npy"])
        #expect(result.status == 1)
        #expect(result.standardError.contains("/proc/simpool-cannot-write: cannot create the output folder"))
    }
}

/// `simpool-explorer eval` on a synthetic set whose answer is known, and on the samples.
struct EvalCommandTests {
    @Test func uniformMapsMatchTheAllOnesBaselineExactly() throws {
        // GAP's map is uniform, so thresholding keeps every pixel: its Jaccard index is the
        // object's share of the image, by hand 16·8 / (16·16) = 0.5 for a half-image mask.
        let directory = try Fixtures.temporaryDirectory()
        let images = directory.appendingPathComponent("images"), masks = directory.appendingPathComponent("masks")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: masks, withIntermediateDirectories: true)
        let image = PixelImage(width: 16, height: 16, channels: 3, pixels: (0..<(16 * 16 * 3)).map { UInt8($0 % 251) })
        try Data(try PNGEncoder.encode(image)).write(to: images.appendingPathComponent("one.png"))
        let mask = PixelImage(width: 16, height: 16, channels: 1, pixels: (0..<256).map { $0 < 128 ? 0 : 255 })
        try Data(try PNGEncoder.encode(mask)).write(to: masks.appendingPathComponent("one_mask.png"))
        let result = try CommandRunner.run(["eval", images.path, "--masks", masks.path, "--method", "gap", "--json",
                                            "--model", ExportCommandTests.model, "--resolution", "32"])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [String: Any]
        let rows = object["methods"] as! [[String: Any]]
        #expect(rows.count == 2)
        for row in rows {
            #expect(row["jaccard"] as? Double == 0.5)
            #expect(row["corloc"] as? Double == 1)   // box IoU: half the image, 0.5 ≥ 0.5
        }
    }

    @Test func aMissingMaskFolderIsOneLine() throws {
        let result = try CommandRunner.run(["eval", Fixtures.samplePath("images"), "--masks", "/no/masks/here"])
        #expect(result.status == 1)
        #expect(result.standardError == "/no/masks/here: no such folder of masks\n")
    }

    @Test func samplePairsGivePlausibleNumbersAndAMissingMaskIsOneLine() throws {
        let result = try CommandRunner.run(["eval", Fixtures.samplePath("images/bird_segmentation.bmp"),
                                            Fixtures.samplePath("images/dog_segmentation.bmp"), Fixtures.samplePath("images/cat.bmp"),
                                            "--masks", Fixtures.samplePath("masks"), "--method", "gem:p=3,rollout", "--json"])
        #expect(result.status == 1)
        #expect(result.standardError == "\(Fixtures.samplePath("images/cat.bmp")): no mask named cat.* or cat_mask.* in \(Fixtures.samplePath("masks"))\n")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [String: Any]
        #expect(object["images"] as? Int == 2)
        for row in object["methods"] as! [[String: Any]] {
            let jaccard = row["jaccard"] as! Double
            #expect(jaccard > 0.05 && jaccard < 1, "\(row)")
        }
    }
}

/// `--method all` without a learned SimPool head: simpool is simpool-np, written once.
struct ExportAllMethodsTests {
    @Test func methodsThatResolveToTheSameMapAreWrittenOnce() throws {
        let directory = try Fixtures.temporaryDirectory()
        let result = try CommandRunner.run(["export", Fixtures.samplePath("images/cat.bmp"), "--out", directory.path,
                                            "--method", "all", "--format", "npy"] + ExportCommandTests.common)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.standardError.contains("kept"))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files == ["cat.cls.L2.mean.npy", "cat.gap.L2.mean.npy", "cat.gem-p3.L2.mean.npy", "cat.gmp-lambda1000.L2.mean.npy",
                          "cat.how.L2.mean.npy", "cat.lse-r10.L2.mean.npy", "cat.max.L2.mean.npy", "cat.rollout.L2.mean.npy",
                          "cat.simpool-np-gamma1.25.L2.mean.npy"])
    }
}
