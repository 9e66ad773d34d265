import Foundation

/// Opens PNG, JPEG, BMP and PPM/PGM/PBM files, recognised by their first bytes.
public enum ImageDecoder {
    /// Larger images are refused before any pixel memory is taken: a hostile header can
    /// declare 100000×100000 pixels in a few bytes.
    public static let defaultMaximumPixels = 100_000_000

    /// File extensions the explorer looks for when given a folder.
    public static let fileExtensions: Set<String> = ["png", "jpg", "jpeg", "bmp", "ppm", "pgm", "pbm", "pnm"]

    public static func decode(path: String, maximumPixels: Int = defaultMaximumPixels) throws -> PixelImage {
        let data: Data
        // An empty regular file is answered before reading: Foundation's reader leaks its
        // buffer for one (found by the image fuzzer), and there is nothing to decode.
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
           attributes[.type] as? FileAttributeType == .typeRegular, attributes[.size] as? Int == 0 {
            throw ImageError(path: path, problem: "empty file")
        }
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            throw ImageError(path: path, problem: readProblem(path))
        }
        return try decode(data: data, path: path, maximumPixels: maximumPixels)
    }

    public static func decode(data: Data, path: String, maximumPixels: Int = defaultMaximumPixels) throws -> PixelImage {
        do {
            return try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> PixelImage in
                if bytes.isEmpty { throw DecodeError("empty file") }
                switch format(of: bytes) {
                case .png: return try LibraryCodecs.decodePNG(bytes, maximumPixels: maximumPixels)
                case .jpeg: return try LibraryCodecs.decodeJPEG(bytes, maximumPixels: maximumPixels)
                case .bmp: return try BMPDecoder.decode(bytes, maximumPixels: maximumPixels)
                case .netpbm: return try NetpbmDecoder.decode(bytes, maximumPixels: maximumPixels)
                case nil: throw DecodeError("not an image this program reads (PNG, JPEG, BMP, PPM/PGM/PBM)")
                }
            }
        } catch let error as DecodeError {
            throw ImageError(path: path, problem: error.message)
        }
    }

    enum Format { case png, jpeg, bmp, netpbm }

    static func format(of bytes: UnsafeRawBufferPointer) -> Format? {
        if bytes.count >= 4, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 { return .png }
        if bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 { return .jpeg }
        if bytes.count >= 2, bytes[0] == 0x42, bytes[1] == 0x4D { return .bmp }
        if bytes.count >= 2, bytes[0] == 0x50, (0x31...0x36).contains(bytes[1]) { return .netpbm }
        return nil
    }

    private static func readProblem(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "is a directory" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return "cannot be read"
    }

    static func checkSize(width: Int, height: Int, maximumPixels: Int) throws {
        guard width > 0, height > 0 else { throw DecodeError("invalid dimensions \(width)×\(height)") }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maximumPixels else {
            throw DecodeError("image too large: \(width)×\(height) pixels exceeds the limit of \(maximumPixels)")
        }
    }
}
