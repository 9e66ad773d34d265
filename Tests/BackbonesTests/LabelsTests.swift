import Foundation
import ModelRuntime
import Testing
import TestSupport

/// ImageNet class names: index i is line i + 1 of the bundled file (line 0 is "background").
struct LabelsTests {
    @Test func indicesSkipTheBackgroundLine() throws {
        let labels = try ImageNetLabels(path: Fixtures.samplePath("imagenet_labels.txt"))
        #expect(labels.names.count == 1000)
        #expect(labels.name(0) == "tench")
        #expect(labels.name(281) == "tabby")
        #expect(labels.name(999) == "toilet tissue")
        let logits = (0..<1000).map { Float($0 == 281 ? 5 : 0) }
        let top = labels.top(logits, count: 2)
        #expect(top[0].index == 281 && top[0].name == "tabby")
        // Softmax of 5 against 999 zeros, by hand.
        let expected = Foundation.exp(5.0) / (Foundation.exp(5.0) + 999)
        #expect(abs(Double(top[0].probability) - expected) < 1e-5 * expected)
    }
}
