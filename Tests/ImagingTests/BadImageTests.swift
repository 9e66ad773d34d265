import Foundation
import Imaging
import Testing
import TestSupport

/// Broken and hostile images: one line naming the file and the problem, never a crash,
/// and no pixel memory taken for absurd sizes.
struct BadImageTests {
    func problem(_ bytes: [UInt8], name: String) throws -> String {
        let path = try Fixtures.writeTemporary(bytes, name: name)
        do {
            let image = try ImageDecoder.decode(path: path)
            Issue.record("\(name) decoded as \(image.width)×\(image.height)")
            return ""
        } catch let error as ImageError {
            #expect(error.path == path)
            #expect(!error.description.contains("\n"))
            #expect(!error.problem.isEmpty)
            return error.problem
        }
    }

    /// Findings of `Tools/fuzz.sh`, kept so they stay fixed.
    @Test func fuzzFindingsAreRefused() throws {
        // An ASCII bitmap whose pixel bytes are not '0'/'1' (byte − '0' underflowed).
        let bitmap = try Fixtures.bytes("hostile/fuzz-p1-bitmap-byte.pbm")
        #expect(try problem(bitmap, name: "fuzz.pbm") == "corrupt netpbm data: a bitmap pixel must be 0 or 1")
        #expect(try problem(Array("P1 2 1\n0 x".utf8), name: "hand.pbm") == "corrupt netpbm data: a bitmap pixel must be 0 or 1")
    }

    @Test func missingEmptyAndWrongMagic() throws {
        do {
            _ = try ImageDecoder.decode(path: "/nonexistent/cat.png")
            Issue.record("decoded a missing file")
        } catch let error as ImageError {
            #expect(error.description == "/nonexistent/cat.png: no such file")
        }
        #expect(try problem([], name: "empty.png") == "empty file")
        #expect(try problem(Array("GIF89a....".utf8), name: "x.gif").contains("not an image"))
    }

    @Test(arguments: ["rgb.png", "baseline.jpg", "progressive.jpg", "rgb24.bmp", "palette8.bmp", "rgb.ppm", "gray.pgm"])
    func truncatedFilesAreReported(name: String) throws {
        let bytes = try Fixtures.bytes("images/" + name)
        for fraction in [0.02, 0.3, 0.7, 0.97] {
            let cut = Array(bytes.prefix(max(3, Int(Double(bytes.count) * fraction))))
            let text = try problem(cut, name: "cut-" + name)
            #expect(!text.isEmpty)
        }
    }

    @Test func truncatedJPEGSaysTruncated() throws {
        let bytes = try Fixtures.bytes("images/baseline.jpg")
        #expect(try problem(Array(bytes.prefix(bytes.count / 2)), name: "half.jpg").contains("truncated"))
    }

    @Test func absurdDimensionsAreRefusedBeforeDecoding() throws {
        // A PNG header declaring 100000×100000 pixels (CRC correct, no image data).
        let png = HandBuiltFiles.pngHeader(width: 100_000, height: 100_000)
        #expect(try problem(png, name: "huge.png").contains("too large"))

        // A BMP header declaring the same.
        var bmp: [UInt8] = Array("BM".utf8) + HandBuiltFiles.le32(54) + HandBuiltFiles.le32(0) + HandBuiltFiles.le32(54) + HandBuiltFiles.le32(40)
        bmp += HandBuiltFiles.le32(100_000) + HandBuiltFiles.le32(100_000) + [1, 0, 24, 0] + HandBuiltFiles.le32(0) + HandBuiltFiles.le32(0) + HandBuiltFiles.le32(0) + HandBuiltFiles.le32(0) + HandBuiltFiles.le32(0) + HandBuiltFiles.le32(0)
        #expect(try problem(bmp, name: "huge.bmp").contains("too large"))

        #expect(try problem(Array("P6\n100000 100000\n255\n".utf8), name: "huge.ppm").contains("too large"))

        // A JPEG whose frame header says 65000×65000.
        let jpeg = try Fixtures.bytes("images/baseline.jpg")
        var patched = jpeg
        if let sof = (0..<(jpeg.count - 9)).first(where: { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }) {
            patched[sof + 5] = 0xFD; patched[sof + 6] = 0xE8
            patched[sof + 7] = 0xFD; patched[sof + 8] = 0xE8
        }
        let text = try problem(patched, name: "huge.jpg")
        #expect(text.contains("too large"), "\(text)")
    }
}
