@testable import Explorer
import Testing
import TerminalCanvas

/// The query patch's frame in pixel stills, pixel by pixel: the patch untouched, a white
/// ring one pixel round it, a black ring outside that, nothing else changed.
struct QueryOutlineTests {
    @Test func theFrameIsTwoRingsRoundThePatch() {
        let gray = RGB(128, 128, 128)
        var pixels = [RGB](repeating: gray, count: 20 * 20)
        // A 5×5 patch grid on 20×20 pixels: patch (2, 1) covers x 4…7, y 8…11.
        PixelStill.outline(&pixels, width: 20, height: 20, patch: (row: 2, column: 1), grid: (5, 5))
        for y in 0..<20 {
            for x in 0..<20 {
                let distance = max(max(4 - x, x - 7, 0), max(8 - y, y - 11, 0))   // Chebyshev, to the patch
                let want = distance == 0 ? gray : distance == 1 ? RGB(255, 255, 255) : distance == 2 ? RGB(0, 0, 0) : gray
                #expect(pixels[y * 20 + x] == want, "(\(x), \(y))")
            }
        }
    }
}
