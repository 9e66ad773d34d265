/// The colormaps a map can be drawn with.
public enum Colormap: String, CaseIterable, Sendable {
    case viridis, inferno, magma, turbo, gray

    /// The colour for a value in [0, 1] (clamped).
    public func color(_ value: Float) -> RGB {
        let t = value.isFinite ? min(max(value, 0), 1) : 0
        let index = Int((t * 255).rounded())
        switch self {
        case .viridis: return RGB(packed: ColormapTables.viridis[index])
        case .inferno: return RGB(packed: ColormapTables.inferno[index])
        case .magma: return RGB(packed: ColormapTables.magma[index])
        case .turbo: return RGB(packed: ColormapTables.turbo[index])
        case .gray: return RGB(UInt8(index), UInt8(index), UInt8(index))
        }
    }

    /// The next colormap, for the explorer's `c` key.
    public var next: Colormap {
        let all = Colormap.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}
