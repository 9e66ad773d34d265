@testable import Tensors
import Testing
import TestSupport

/// ResNet's stem max pooling (3×3, stride 2, padding 1) against its definition on
/// channels-last maps: the largest input in each window, windows clipped at the borders;
/// odd and even sizes, channels fewer than and a multiple of its 8-lane vectors.
struct FeatureMapsTests {
    @Test(arguments: [(1, 1), (2, 3), (7, 9), (16, 16), (17, 33), (112, 112)], [3, 64])
    func maxPoolTakesTheLargestValueOfEachWindow(size: (Int, Int), channels: Int) {
        let (height, width) = size
        var random = SeededGenerator(seed: UInt64(height * 1000 + width))
        let input = (0..<(channels * height * width)).map { _ in Float(random.uniform()) }
        let pooled = FeatureMaps.maxPool(input, channels: channels, height: height, width: width)
        #expect((pooled.height, pooled.width) == ((height - 1) / 2 + 1, (width - 1) / 2 + 1))
        var wrong = 0
        for c in 0..<channels {
            for y in 0..<pooled.height {
                for x in 0..<pooled.width {
                    var best = -Float.infinity
                    for iy in (2 * y - 1)...(2 * y + 1) where iy >= 0 && iy < height {
                        for ix in (2 * x - 1)...(2 * x + 1) where ix >= 0 && ix < width {
                            best = max(best, input[(iy * width + ix) * channels + c])
                        }
                    }
                    if pooled.values[(y * pooled.width + x) * channels + c] != best { wrong += 1 }
                }
            }
        }
        #expect(wrong == 0)
    }
}
