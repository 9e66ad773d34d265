import Backbones
import Checkpoints
import Foundation
import Testing
import TestSupport

/// Reference tensors saved by Tools/make_backbone_fixtures.py, read with our own reader.
struct Reference {
    let checkpoint: Checkpoint

    init(_ name: String, folder: String = "backbones") throws {
        checkpoint = try Checkpoint.open(path: Fixtures.path(folder + "/" + name))
    }

    func floats(_ name: String) throws -> [Float] {
        try #require(checkpoint[name], "reference tensor \(name) missing").floats()
    }

    func shape(_ name: String) throws -> [Int] {
        try #require(checkpoint[name]).shape
    }

    func ints(_ name: String) throws -> [Int] {
        try #require(checkpoint[name]).int64s().map(Int.init)
    }

    /// The layout fixtures' check of one input `tag`: every block's [CLS] rows against
    /// `<tag>.block<i>.cls` (same shape, within 1e-4), and for the square input the final
    /// tokens against `square.final` (within 1e-4 relative).
    func expectClassRows(of trace: Trace, tag: String, label: String) throws {
        for (i, layer) in trace.layers.enumerated() {
            let got = try #require(layer.classRows)
            #expect(got.shape == (try shape("\(tag).block\(i).cls")), "\(label) \(tag) block \(i) shape")
            let error = maximumDifference(got.scalars, try floats("\(tag).block\(i).cls"))
            #expect(error <= 1e-4, "\(label) \(tag) block \(i) [CLS] attention: \(error)")
        }
        if tag == "square" {
            let error = relativeError(trace.final.tokens.scalars, try floats("square.final"))
            #expect(error <= 1e-4, "\(label) final tokens: \(error)")
        }
    }
}

/// Largest absolute difference relative to the largest reference magnitude: the error
/// measure behind "within 1e-4 relative" (a per-element ratio explodes near zero).
func relativeError(_ got: [Float], _ want: [Float]) -> Double {
    precondition(got.count == want.count, "\(got.count) values vs \(want.count)")
    let scale = max(want.map { abs(Double($0)) }.max() ?? 0, 1e-12)
    return zip(got, want).map { abs(Double($0) - Double($1)) }.max().map { $0 / scale } ?? 0
}

func maximumDifference(_ got: [Float], _ want: [Float]) -> Double {
    zip(got, want).map { abs(Double($0) - Double($1)) }.max() ?? 0
}

func loadModel(_ file: String) throws -> any Backbone {
    try ModelLoader.load(try Checkpoint.open(path: Fixtures.path("backbones/" + file)))
}
