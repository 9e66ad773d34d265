/// An sRGB colour.
public struct RGB: Equatable, Hashable, Sendable {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    public init(packed: UInt32) {
        self.init(UInt8(packed >> 16), UInt8((packed >> 8) & 0xFF), UInt8(packed & 0xFF))
    }

    /// CIE L* (0–100): perceived lightness, the order colormaps must keep when squeezed.
    public var lightness: Double {
        func linear(_ v: UInt8) -> Double {
            let c = Double(v) / 255
            return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        let y = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
        return y > 0.008856 ? 116 * cbrt(y) - 16 : 903.3 * y
    }

    /// Rec. 601 luma 0–1, for choosing ASCII characters.
    public var luma: Float { (0.299 * Float(r) + 0.587 * Float(g) + 0.114 * Float(b)) / 255 }

    func distanceSquared(_ other: RGB) -> Int {
        // Weighted Euclidean ("redmean") distance: cheap and close to perceived difference.
        let mean = (Int(r) + Int(other.r)) / 2
        let dr = Int(r) - Int(other.r), dg = Int(g) - Int(other.g), db = Int(b) - Int(other.b)
        return (((512 + mean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - mean) * db * db) >> 8)
    }

    /// (1 − t)·self + t·other, rounded.
    public func blended(with other: RGB, amount t: Float) -> RGB {
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8(clamping: Int((Float(a) * (1 - t) + Float(b) * t).rounded())) }
        return RGB(mix(r, other.r), mix(g, other.g), mix(b, other.b))
    }
}

import Foundation
