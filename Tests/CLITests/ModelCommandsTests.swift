import Foundation
import Testing
import TestSupport

/// `models` and `bench` through the real binary.
struct ModelCommandsTests {
    @Test func modelsListsTheBundledDefault() throws {
        let result = try CommandRunner.run(["models", "--json"])
        #expect(result.status == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [[String: String]]
        let row = try #require(rows.first { $0["name"] == "dinov2-vits14" })
        #expect(row["architecture"] == "ViT-S/14 (DINOv2 layout)")
        #expect(row["layers"] == "12")
        // 22,056,192: the DINOv2 ViT-S/14 backbone, counted from the file's shapes by the converter.
        #expect(row["parameters"] == "22056192")
        #expect(row["path"]?.hasSuffix("Samples/models/dinov2-vits14.safetensors") == true)
    }

    @Test func benchJSONHasTheDesignedShape() throws {
        let result = try CommandRunner.run(["bench", "--json", "--repeats", "1", "--threads", "1", "--threads", "2",
                                            "--image", Fixtures.samplePath("images/dog_segmentation.bmp")])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [String: Any]
        #expect(object["model"] as? String == "dinov2-vits14")
        #expect(object["resolution"] as? Int == 224)
        #expect(object["input"] as? [Int] == [224, 224])
        let forward = try #require(object["forward_ms"] as? [String: Double])
        #expect(Set(forward.keys) == ["1", "2"])
        #expect(forward.values.allSatisfy { $0 > 0 })
        #expect((object["load_ms"] as? Double ?? 0) > 0)
        // Pooling: every method (GMP also after a λ change) on one thread, the figures bench
        // gives as `pool_ms`, and at each thread count asked for.
        let methods: Set = ["simpool-np", "cls", "rollout", "gap", "max", "gem", "lse", "gmp", "gmp (λ changed)", "how"]
        #expect(Set(try #require(object["pool_ms"] as? [String: Double]).keys) == methods)
        let pool = try #require(object["pool_ms_by_threads"] as? [String: [String: Double]])
        #expect(Set(pool.keys) == ["1", "2"])
        for times in pool.values {
            #expect(Set(times.keys) == methods)
            #expect(times.values.allSatisfy { $0 > 0 })
        }
    }

    @Test func unknownModelIsOneLine() throws {
        let result = try CommandRunner.run(["bench", "--model", "no-such-model", "--repeats", "1"])
        #expect(result.status == 1)
        #expect(result.standardError == "no-such-model: no such file or folder, and not a bundled model (dinov2-vits14)\n")
    }
}
