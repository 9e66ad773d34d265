/// The xterm 256-colour palette and colour quantisation onto it and onto the 16 ANSI colours.
public enum Palette {
    /// xterm's default RGB for each index.
    public static let xterm256: [RGB] = {
        var colors: [RGB] = [
            RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0), RGB(0, 0, 238), RGB(205, 0, 205),
            RGB(0, 205, 205), RGB(229, 229, 229), RGB(127, 127, 127), RGB(255, 0, 0), RGB(0, 255, 0),
            RGB(255, 255, 0), RGB(92, 92, 255), RGB(255, 0, 255), RGB(0, 255, 255), RGB(255, 255, 255),
        ]
        let levels: [UInt8] = [0, 95, 135, 175, 215, 255]
        for r in levels { for g in levels { for b in levels { colors.append(RGB(r, g, b)) } } }
        for k in 0..<24 { let v = UInt8(8 + 10 * k); colors.append(RGB(v, v, v)) }
        return colors
    }()

    /// Nearest entry among the cube and the grey ramp (16–255): the 16 ANSI colours are
    /// left out because terminals theme them.
    public static func nearest256(_ color: RGB) -> UInt8 {
        // The cube coordinate nearest on each axis, and the nearest grey; keep the closer.
        func level(_ v: UInt8) -> Int { v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40 }
        let (r, g, b) = (level(color.r), level(color.g), level(color.b))
        let cube = 16 + 36 * r + 6 * g + b
        let average = (Int(color.r) + Int(color.g) + Int(color.b)) / 3
        let grey = 232 + min(23, max(0, (average - 3) / 10))
        return color.distanceSquared(xterm256[cube]) <= color.distanceSquared(xterm256[grey]) ? UInt8(cube) : UInt8(grey)
    }

    /// Nearest of the 16 ANSI colours (xterm defaults).
    public static func nearest16(_ color: RGB) -> UInt8 {
        UInt8((0..<16).min { color.distanceSquared(xterm256[$0]) < color.distanceSquared(xterm256[$1]) }!)
    }

    /// The 16 ANSI colours ordered by lightness: the ramp heat maps use in 16-colour mode.
    public static let ramp16: [UInt8] = [0, 4, 1, 5, 8, 12, 2, 6, 9, 13, 10, 3, 7, 14, 11, 15]
        .sorted { xterm256[Int($0)].lightness < xterm256[Int($1)].lightness }

    /// A colormap squeezed into the 256-colour palette as `steps` entries whose lightness
    /// never decreases: the nearest entry to each colormap sample among those at least as
    /// light as the previous choice. (Nearest colours alone would reorder a perceptually
    /// uniform map such as viridis.)
    public static func ordered256(_ colormap: Colormap) -> [UInt8] {
        orderedRamps[colormap]!
    }

    /// Computed once: every 256-colour frame draws its map and legend from these.
    private static let orderedRamps: [Colormap: [UInt8]] = {
        let candidates = (16..<256).map { (index: UInt8($0), color: xterm256[$0], lightness: xterm256[$0].lightness) }
        return Dictionary(uniqueKeysWithValues: Colormap.allCases.map { ($0, squeeze($0, steps: 32, candidates: candidates)) })
    }()

    private static func squeeze(_ colormap: Colormap, steps: Int,
                                candidates: [(index: UInt8, color: RGB, lightness: Double)]) -> [UInt8] {
        var result: [UInt8] = []
        var floor = -1.0
        for step in 0..<steps {
            let target = colormap.color(Float(step) / Float(steps - 1))
            let allowed = candidates.filter { $0.lightness >= floor - 1e-9 }
            let best = allowed.min { target.distanceSquared($0.color) < target.distanceSquared($1.color) } ?? candidates.last!
            result.append(best.index)
            floor = best.lightness
        }
        return result
    }
}
