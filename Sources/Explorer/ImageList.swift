import Foundation
import Imaging

/// Turns command-line paths (files, folders, glob patterns) into a sorted list of images.
public enum ImageList {
    public struct Expansion: Sendable {
        public var images: [String]
        /// One line per path that matched nothing usable.
        public var problems: [String]
    }

    public static func expand(_ paths: [String]) -> Expansion {
        var images: [String] = []
        var problems: [String] = []
        let fileManager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: path, isDirectory: &isDirectory) {
                if isDirectory.boolValue {
                    let entries = ((try? fileManager.contentsOfDirectory(atPath: path)) ?? [])
                        .filter { isImageName($0) }.sorted()
                    if entries.isEmpty { problems.append("\(path): no images (PNG, JPEG, BMP, PPM/PGM) in this folder") }
                    images += entries.map { (path as NSString).appendingPathComponent($0) }
                } else {
                    images.append(path)
                }
            } else if path.contains("*") || path.contains("?") || path.contains("[") {
                let matches = glob(path).filter { isImageName($0) }
                if matches.isEmpty { problems.append("\(path): no image matches this pattern") }
                images += matches
            } else {
                problems.append("\(path): no such file")
            }
        }
        var seen = Set<String>()
        return Expansion(images: images.filter { seen.insert($0).inserted }, problems: problems)
    }

    public static func isImageName(_ name: String) -> Bool {
        ImageDecoder.fileExtensions.contains((name as NSString).pathExtension.lowercased())
    }

    private static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
