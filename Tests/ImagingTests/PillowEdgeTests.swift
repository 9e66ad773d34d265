import Foundation
@testable import Imaging
import Testing
import TestSupport

/// Hand-built files at the edges where decoders disagree (`Tools/make_decoder_edge_fixtures.py`),
/// against what Pillow 13 makes of each: the same pixels where Pillow decodes a file, and
/// never a silent picture where Pillow refuses one.
struct PillowEdgeTests {
    nonisolated(unsafe) static let manifest = try! Fixtures.json("images/edges/manifest.json")["files"] as! [String: [String: Any]]
    nonisolated(unsafe) static let decoded = manifest.keys.filter { manifest[$0]!["refused"] == nil }.sorted()
    nonisolated(unsafe) static let refused = manifest.keys.filter { manifest[$0]!["refused"] != nil }.sorted()

    /// Files Pillow decodes in silence where libjpeg or libpng report a problem: shown
    /// with that warning, the pixels as Pillow's (JPEG within the IDCT's ±2 levels).
    static let warnedButDecodedByPillow: Set<String> = ["extraneous_bytes.jpg"]
    /// Files Pillow refuses that libpng can still decode whole: shown, with a warning.
    static let warnedWherePillowRefuses: Set<String> = ["text_bad_crc.png"]

    static func hexBytes(_ text: String) -> [UInt8] {
        var bytes = [UInt8]()
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    @Test(arguments: decoded)
    func decodesAsPillowDoes(name: String) throws {
        let facts = Self.manifest[name]!
        let image = try ImageDecoder.decode(path: Fixtures.path("images/edges/" + name)).rgb()
        #expect(image.width == (facts["width"] as! NSNumber).intValue)
        #expect(image.height == (facts["height"] as! NSNumber).intValue)
        let want = Self.hexBytes(facts["rgb"] as! String)
        #expect(image.pixels.count == want.count)
        let worst = zip(image.pixels, want).map { abs(Int($0) - Int($1)) }.max() ?? 0
        if Self.warnedButDecodedByPillow.contains(name) {
            #expect(worst <= 2, "\(name): differs from Pillow by up to \(worst)")
            #expect(image.warning?.contains("warning") == true, "\(name): decoded without a word")
        } else {
            #expect(worst == 0, "\(name): differs from Pillow by up to \(worst)")
            #expect(image.warning == nil, "\(name): unexpected warning \(image.warning ?? "")")
        }
    }

    @Test(arguments: refused)
    func neverDecodedInSilenceWherePillowRefuses(name: String) throws {
        let path = Fixtures.path("images/edges/" + name)
        do {
            let image = try ImageDecoder.decode(path: path)
            #expect(Self.warnedWherePillowRefuses.contains(name),
                    "\(name): decoded where Pillow says \(Self.manifest[name]!["refused"]!)")
            #expect(image.warning != nil, "\(name): decoded without a word")
        } catch let error as ImageError {
            #expect(!Self.warnedWherePillowRefuses.contains(name), "\(name): refused: \(error)")
            #expect(error.description.hasPrefix(path + ": "))
            #expect(!error.description.contains("\n"))
        }
    }

    /// Pillow's 5-bit widening is v·255/31 rounded down, not bit replication: 30 → 246.
    @Test func sixteenBitChannelsAreWidenedByDivision() {
        let white = BMPDecoder.unpack16(0x7FFF, greenBits: 5)
        #expect(white.0 == 255 && white.1 == 255 && white.2 == 255)
        let thirty = BMPDecoder.unpack16(30 << 10 | 30 << 5 | 30, greenBits: 5)
        #expect(Int(thirty.0) == 30 * 255 / 31 && thirty.0 == 246)
        let green565 = BMPDecoder.unpack16(62 << 5, greenBits: 6)
        #expect(Int(green565.1) == 62 * 255 / 63 && green565.0 == 0 && green565.2 == 0)
    }

    /// 318 bytes declaring 9999×10000 pixels are refused before ~300 MB are taken.
    @Test func declaredSizeIsCheckedBeforeAllocating() throws {
        let path = Fixtures.path("images/edges/declares_huge.ppm")
        #expect {
            try ImageDecoder.decode(path: path)
        } throws: { error in
            (error as? ImageError)?.problem.contains("needs at least 299970001 bytes") == true
        }
    }
}
