import Foundation
import Pooling

/// Which files an export writes and what they are called.
///
/// `<image stem>.<method>.L<layer>.<head>.<ext>`: the method with its parameters made safe
/// for file names (`gem:p=3` → `gem-p3`), the 1-based layer, `mean` or `h<k>` for the head,
/// and the format's extension (`.png`, `.overlay.png`, `.npy`, `.csv`, `.json`, `.ansi.txt`).
public enum ExportPlan {
    public enum Format: String, CaseIterable, Sendable {
        case png, overlay, npy, csv, json, ansi, kitty, sixel

        public var fileExtension: String {
            switch self {
            case .png: return "png"
            case .overlay: return "overlay.png"
            case .npy: return "npy"
            case .csv: return "csv"
            case .json: return "json"
            case .ansi: return "ansi.txt"
            case .kitty: return "kitty.txt"
            case .sixel: return "sixel.txt"
            }
        }
    }

    /// The method part of a file name.
    public static func methodTag(_ specification: String) -> String {
        specification.replacingOccurrences(of: ":", with: "-").replacingOccurrences(of: "=", with: "")
            .replacingOccurrences(of: ",", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    public static func headTag(_ head: HeadSelection) -> String {
        switch head {
        case .mean, .max, .min: return head.description
        case .index(let i): return "h\(i + 1)"
        }
    }

    /// `owl.cls.L12.mean.npy`; with a patch query `owl.cls.q3-4.L12.mean.npy` (row 3,
    /// column 4, 0-based from the top-left of the patch grid).
    public static func fileName(imagePath: String, method: String, layer: Int, head: HeadSelection, format: Format,
                                query: ExplorerState.Query? = nil) -> String {
        let stem = ((imagePath as NSString).lastPathComponent as NSString).deletingPathExtension
        let queryTag = query.map { ".q\($0.row)-\($0.column)" } ?? ""
        return "\(stem).\(methodTag(method))\(queryTag).L\(layer + 1).\(headTag(head)).\(format.fileExtension)"
    }

    /// `--shard K/N`: every N-th item of the sorted list, starting at K (0-based), so that N
    /// processes together cover every item exactly once.
    public static func shard(_ items: [String], index: Int, count: Int) -> [String] {
        precondition(count >= 1 && index >= 0 && index < count)
        return items.sorted().enumerated().filter { $0.offset % count == index }.map(\.element)
    }

    /// Parses `K/N`.
    public static func parseShard(_ text: String) -> (index: Int, count: Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 0, k < n else { return nil }
        return (k, n)
    }
}
