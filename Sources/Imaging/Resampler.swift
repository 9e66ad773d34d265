/// Image resizing that reproduces PIL's `Image.resize` for 8-bit images bit for bit:
/// separable filters whose support widens by the scale factor when shrinking (so
/// downsampling is antialiased), fixed-point weights with 22 fractional bits, a horizontal
/// pass rounded to 8 bits, then a vertical pass. torchvision's `Resize` on PIL images, and
/// so every reference preprocessing, goes through exactly this code path.
public enum Resampler {
    public enum Filter: String, Sendable, CaseIterable {
        case bilinear, bicubic

        var support: Double { self == .bilinear ? 1 : 2 }

        func weight(_ distance: Double) -> Double {
            let x = abs(distance)
            switch self {
            case .bilinear:
                return x < 1 ? 1 - x : 0
            case .bicubic:
                let a = -0.5
                if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                return 0
            }
        }
    }

    static let precisionBits = 32 - 8 - 2

    /// Resizes any channel count to `width`×`height`.
    public static func resize(_ image: PixelImage, width: Int, height: Int, filter: Filter) -> PixelImage {
        precondition(width > 0 && height > 0, "resize to \(width)×\(height)")
        if width == image.width && height == image.height { return image }
        let horizontal = Coefficients(inputSize: image.width, outputSize: width, filter: filter)
        let vertical = Coefficients(inputSize: image.height, outputSize: height, filter: filter)
        var current = image
        if width != image.width {
            // Only the rows the vertical pass will read are resampled horizontally.
            let first = vertical.bounds.first!.start
            let last = vertical.bounds.last!.start + vertical.bounds.last!.count
            current = horizontalPass(current, rows: first..<last, coefficients: horizontal)
            if height != image.height {
                var shifted = vertical
                shifted.shift(by: -first)
                return verticalPass(current, coefficients: shifted)
            }
            return current
        }
        return verticalPass(current, coefficients: vertical)
    }

    /// Per output position: the first input index, how many inputs, and their weights.
    struct Coefficients {
        var bounds: [(start: Int, count: Int)]
        var weights: [Int32]        // `kernelSize` per output, zero padded
        let kernelSize: Int

        init(inputSize: Int, outputSize: Int, filter: Filter) {
            let scale = Double(inputSize) / Double(outputSize)
            let filterScale = max(scale, 1)
            let support = filter.support * filterScale
            kernelSize = Int(support.rounded(.up)) * 2 + 1
            bounds = []
            bounds.reserveCapacity(outputSize)
            weights = [Int32](repeating: 0, count: outputSize * kernelSize)
            var row = [Double](repeating: 0, count: kernelSize)
            for output in 0..<outputSize {
                let center = (Double(output) + 0.5) * scale
                let inverse = 1 / filterScale
                let start = max(Int(center - support + 0.5), 0)
                let end = min(Int(center + support + 0.5), inputSize)
                let count = end - start
                var total = 0.0
                for i in 0..<count {
                    let w = filter.weight((Double(i + start) - center + 0.5) * inverse)
                    row[i] = w
                    total += w
                }
                for i in 0..<kernelSize {
                    var w = i < count ? row[i] : 0
                    if i < count && total != 0 { w /= total }
                    let fixed = w * Double(1 << Resampler.precisionBits)
                    weights[output * kernelSize + i] = Int32(fixed < 0 ? fixed - 0.5 : fixed + 0.5)
                }
                bounds.append((start, count))
            }
        }

        mutating func shift(by offset: Int) {
            for i in bounds.indices { bounds[i].start += offset }
        }
    }

    @inline(__always)
    static func clip8(_ accumulator: Int32) -> UInt8 {
        if accumulator >= (1 << precisionBits) << 8 { return 255 }
        if accumulator <= 0 { return 0 }
        return UInt8(accumulator >> Int32(precisionBits))
    }

    static func horizontalPass(_ image: PixelImage, rows: Range<Int>, coefficients: Coefficients) -> PixelImage {
        let outWidth = coefficients.bounds.count
        let channels = image.channels
        var output = [UInt8](repeating: 0, count: outWidth * rows.count * channels)
        let half = Int32(1 << (precisionBits - 1))
        image.pixels.withUnsafeBufferPointer { source in
            coefficients.weights.withUnsafeBufferPointer { weights in
                output.withUnsafeMutableBufferPointer { target in
                    for (outRow, inRow) in rows.enumerated() {
                        let sourceRow = inRow * image.width * channels
                        for x in 0..<outWidth {
                            let (start, count) = coefficients.bounds[x]
                            let k = x * coefficients.kernelSize
                            for c in 0..<channels {
                                var sum = half
                                for i in 0..<count {
                                    sum &+= Int32(source[sourceRow + (start + i) * channels + c]) &* weights[k + i]
                                }
                                target[(outRow * outWidth + x) * channels + c] = clip8(sum)
                            }
                        }
                    }
                }
            }
        }
        return PixelImage(width: outWidth, height: rows.count, channels: channels, pixels: output)
    }

    static func verticalPass(_ image: PixelImage, coefficients: Coefficients) -> PixelImage {
        let outHeight = coefficients.bounds.count
        let rowLength = image.width * image.channels
        var output = [UInt8](repeating: 0, count: rowLength * outHeight)
        let half = Int32(1 << (precisionBits - 1))
        image.pixels.withUnsafeBufferPointer { source in
            coefficients.weights.withUnsafeBufferPointer { weights in
                output.withUnsafeMutableBufferPointer { target in
                    for y in 0..<outHeight {
                        let (start, count) = coefficients.bounds[y]
                        let k = y * coefficients.kernelSize
                        for column in 0..<rowLength {
                            var sum = half
                            for i in 0..<count {
                                sum &+= Int32(source[(start + i) * rowLength + column]) &* weights[k + i]
                            }
                            target[y * rowLength + column] = clip8(sum)
                        }
                    }
                }
            }
        }
        return PixelImage(width: image.width, height: outHeight, channels: image.channels, pixels: output)
    }
}
