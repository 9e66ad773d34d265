import Foundation
import Testing
import TestSupport

/// The exploring views from the command line: `render --grid`, `export --query`,
/// `eval --head best`, and the head fusions as flags.
struct ExploringCommandTests {
    static let owl = Fixtures.samplePath("images/owl.jpg")

    @Test func renderPrintsAGridOnce() throws {
        let heads = try CommandRunner.run(["render", Self.owl, "--grid", "heads", "--color", "none", "--symbols", "ascii",
                                           "--width", "110"])
        #expect(heads.status == 0, "\(heads.standardError)")
        let text = heads.standardOutput
        for title in ["image", "mean of heads", "head 1", "head 6"] { #expect(text.contains(title), "\(title)") }
        #expect(text.split(separator: "\n").allSatisfy { $0.count <= 110 })
        #expect(text.split(separator: "\n").last?.hasPrefix("owl.jpg | dinov2-vits14 | heads of cls | layer 12/12") == true)
        let layers = try CommandRunner.run(["render", Self.owl, "--grid", "layers", "--method", "rollout", "--color", "none",
                                            "--symbols", "ascii", "--width", "140"])
        #expect(layers.standardOutput.contains("layer 1 ") && layers.standardOutput.contains("layer 12"))
        let methods = try CommandRunner.run(["render", Self.owl, "--grid", "methods", "--color", "none", "--symbols", "ascii"])
        for name in ["simpool-np:gamma=1.25", "cls", "rollout", "gmp:lambda=1000"] {
            #expect(methods.standardOutput.contains(name), "\(name)")
        }
        let noHeads = try CommandRunner.run(["render", Self.owl, "--grid", "heads", "--method", "gem"])
        #expect(noHeads.status == 1 && noHeads.standardError.contains("gem has no per-head maps"))
    }

    @Test func exportWritesPatchQueryMaps() throws {
        let out = try Fixtures.temporaryDirectory().path
        let result = try CommandRunner.run(["export", Self.owl, "--out", out, "--query", "3,4", "--method", "cls,rollout",
                                            "--format", "npy,json"])
        #expect(result.status == 0, "\(result.standardError)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["owl.cls.q3-4.L12.mean.json", "owl.cls.q3-4.L12.mean.npy",
                          "owl.rollout.q3-4.L12.mean.json", "owl.rollout.q3-4.L12.mean.npy"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/owl.cls.q3-4.L12.mean.json")))
        #expect((json as? [String: Any])?["query"] as? [Int] == [3, 4])
        // The same patch's map from render's query, the attention row, differs from the [CLS] map.
        let plain = try CommandRunner.run(["export", Self.owl, "--out", out, "--method", "cls", "--format", "npy"])
        #expect(plain.status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/owl.cls.L12.mean.npy"))
                != Data(contentsOf: URL(fileURLWithPath: out + "/owl.cls.q3-4.L12.mean.npy")))
        let similarity = try CommandRunner.run(["export", Self.owl, "--out", out, "--query", "0,0", "--similarity", "--format", "npy"])
        #expect(similarity.status == 0 && FileManager.default.fileExists(atPath: out + "/owl.similarity.q0-0.L12.mean.npy"))
        let outside = try CommandRunner.run(["export", Self.owl, "--out", out, "--query", "40,2", "--format", "npy"])
        #expect(outside.status == 1 && outside.standardError.contains("query 40,2 is outside the 16×21 patch grid"))
        let bad = try CommandRunner.run(["export", Self.owl, "--out", out, "--query", "3"])
        #expect(bad.status == 2 && bad.standardError.contains("--query must be ROW,COL"))
    }

    @Test func evalScoresTheBestHeadBesideTheMean() throws {
        let images = ["bird_segmentation.bmp", "dog_segmentation.bmp"].map { Fixtures.samplePath("images/" + $0) }
        let result = try CommandRunner.run(["eval"] + images + ["--masks", Fixtures.samplePath("masks"), "--method", "cls,gap",
                                                                "--head", "best", "--json"])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as! [String: Any]
        let rows = object["methods"] as! [[String: Any]]
        let names = rows.map { $0["method"] as! String }
        #expect(names == ["cls", "cls (best head)", "gap", "all-ones mask (baseline)"])
        let jaccard = Dictionary(uniqueKeysWithValues: rows.map { ($0["method"] as! String, $0["jaccard"] as! Double) })
        #expect(jaccard["cls (best head)"]! >= jaccard["cls"]!, "the best head is at least as good as the mean")
    }

    @Test func headFusionsAreFlags() throws {
        var maps: [String: String] = [:]
        for head in ["mean", "max", "min"] {
            let result = try CommandRunner.run(["render", Self.owl, "--method", "cls", "--head", head, "--color", "none",
                                                "--symbols", "ascii", "--width", "60", "--view", "map"])
            #expect(result.status == 0)
            #expect(result.standardOutput.contains("| head \(head)"))
            maps[head] = result.standardOutput
        }
        #expect(Set(maps.values).count == 3)
        let bad = try CommandRunner.run(["render", Self.owl, "--head", "median"])
        #expect(bad.status == 2 && bad.standardError.contains("--head must be a positive number, mean, max or min"))
    }
}
