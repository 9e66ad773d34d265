import Pooling

/// How well a thresholded map covers an object mask: the Jaccard index, and CorLoc's test
/// on the box around the largest predicted region.
public enum MaskMetrics {
    public struct Box: Equatable, Sendable {
        public let left: Int, top: Int, right: Int, bottom: Int   // right and bottom exclusive

        public init(left: Int, top: Int, right: Int, bottom: Int) {
            self.left = left
            self.top = top
            self.right = right
            self.bottom = bottom
        }

        public var area: Int { max(0, right - left) * max(0, bottom - top) }

        public func intersectionOverUnion(_ other: Box) -> Double {
            let overlap = Box(left: max(left, other.left), top: max(top, other.top),
                              right: min(right, other.right), bottom: min(bottom, other.bottom)).area
            let union = area + other.area - overlap
            return union == 0 ? 0 : Double(overlap) / Double(union)
        }
    }

    /// |A ∩ B| / |A ∪ B| (1 when both are empty).
    public static func jaccard(_ prediction: [Bool], _ truth: [Bool]) -> Double {
        precondition(prediction.count == truth.count)
        var both = 0, either = 0
        for (p, t) in zip(prediction, truth) {
            if p && t { both += 1 }
            if p || t { either += 1 }
        }
        return either == 0 ? 1 : Double(both) / Double(either)
    }

    /// The bounding box of all set pixels.
    public static func box(_ mask: [Bool], width: Int) -> Box? {
        var left = Int.max, top = Int.max, right = -1, bottom = -1
        for (i, set) in mask.enumerated() where set {
            let (y, x) = (i / width, i % width)
            left = min(left, x); right = max(right, x)
            top = min(top, y); bottom = max(bottom, y)
        }
        return right < 0 ? nil : Box(left: left, top: top, right: right + 1, bottom: bottom + 1)
    }

    /// The box of the largest 4-connected region (the first found on ties).
    public static func largestRegionBox(_ mask: [Bool], width: Int, height: Int) -> Box? {
        var label = [Int32](repeating: 0, count: mask.count)
        var best: (size: Int, box: Box)?
        var next: Int32 = 0
        var stack: [Int] = []
        for start in mask.indices where mask[start] && label[start] == 0 {
            next += 1
            label[start] = next
            stack.append(start)
            var size = 0, left = Int.max, top = Int.max, right = -1, bottom = -1
            while let i = stack.popLast() {
                size += 1
                let (y, x) = (i / width, i % width)
                left = min(left, x); right = max(right, x); top = min(top, y); bottom = max(bottom, y)
                for (ny, nx) in [(y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)] where ny >= 0 && ny < height && nx >= 0 && nx < width {
                    let j = ny * width + nx
                    if mask[j] && label[j] == 0 {
                        label[j] = next
                        stack.append(j)
                    }
                }
            }
            if size > (best?.size ?? 0) { best = (size, Box(left: left, top: top, right: right + 1, bottom: bottom + 1)) }
        }
        return best?.box
    }

    /// A map on its grid, upsampled (nearest) to the mask and thresholded at `mass`.
    public static func prediction(_ map: [Float], gridHeight: Int, gridWidth: Int, width: Int, height: Int, mass: Float) -> [Bool] {
        MapProcessing.threshold(MapProcessing.nearest(map, gridHeight: gridHeight, gridWidth: gridWidth, height: height, width: width),
                                mass: mass)
    }

    /// CorLoc's hit: the largest predicted region's box overlaps the object's box with IoU ≥ 0.5.
    public static func corLocHit(prediction: [Bool], truth: [Bool], width: Int, height: Int) -> Bool {
        guard let predicted = largestRegionBox(prediction, width: width, height: height),
              let object = box(truth, width: width) else { return false }
        return predicted.intersectionOverUnion(object) >= 0.5
    }
}
