import Checkpoints
import Foundation
import Testing
import TestSupport

/// Compares a loaded tensor with the fixture script's description of it, exactly.
func expectTensor(_ tensor: WeightTensor?, matches description: Any, name: String,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    guard let tensor else {
        Issue.record("tensor '\(name)' missing", sourceLocation: sourceLocation)
        return
    }
    let expected = description as! [String: Any]
    let dtype = expected["dtype"] as! String
    let shape = (expected["shape"] as! [NSNumber]).map(\.intValue)
    let values = expected["values"] as! [Any]
    #expect(tensor.dtype == ScalarType(torchDTypeName: dtype), "\(name) dtype", sourceLocation: sourceLocation)
    #expect(tensor.shape == shape, "\(name) shape", sourceLocation: sourceLocation)
    if tensor.dtype.isFloatingPoint {
        let got = tensor.doubles()
        let want = values.map(jsonDouble)
        #expect(got.count == want.count, sourceLocation: sourceLocation)
        for (g, w) in zip(got, want) {
            #expect(g == w && g.sign == w.sign, "\(name): \(g) ≠ \(w)", sourceLocation: sourceLocation)
        }
        let floats = tensor.floats()
        for (f, w) in zip(floats, want) where tensor.dtype != .float64 {
            #expect(Double(f) == w, "\(name) as Float: \(f) ≠ \(w)", sourceLocation: sourceLocation)
        }
    } else {
        let got = tensor.int64s()
        let want = values.map { ($0 as! NSNumber).int64Value }
        #expect(got == want, "\(name) values", sourceLocation: sourceLocation)
    }
}
