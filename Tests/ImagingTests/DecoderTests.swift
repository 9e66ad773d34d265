import Foundation
import Imaging
import Testing
import TestSupport

func fnv1a64(_ bytes: [UInt8]) -> String {
    var value: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01B3 }
    return String(format: "%016llx", value)
}

/// Decoding against PIL: the sample photos and synthetic files in every supported layout.
struct DecoderTests {
    nonisolated(unsafe) static let expected = try! Fixtures.json("images/expected.json")
    nonisolated(unsafe) static let samples = expected["samples"] as! [String: Any]
    nonisolated(unsafe) static let synthetic = expected["synthetic"] as! [String: Any]

    @Test(arguments: samples.keys.sorted())
    func sampleDecodesAsPILDoes(name: String) throws {
        let facts = Self.samples[name] as! [String: Any]
        let image = try ImageDecoder.decode(path: Fixtures.samplePath(name)).rgb()
        // Ordinary photos decode without a word (their colour profiles are not our concern).
        #expect(image.warning == nil, "\(name): \(image.warning ?? "")")
        #expect(image.width == (facts["width"] as! NSNumber).intValue)
        #expect(image.height == (facts["height"] as! NSNumber).intValue)
        let xs = (facts["xs"] as! [NSNumber]).map(\.intValue)
        let ys = (facts["ys"] as! [NSNumber]).map(\.intValue)
        let pixels = (facts["pixels"] as! [NSNumber]).map(\.intValue)
        let isJPEG = name.hasSuffix(".jpg")
        var worst = 0
        for i in xs.indices {
            for c in 0..<3 {
                let got = Int(image.pixels[(ys[i] * image.width + xs[i]) * 3 + c])
                worst = max(worst, abs(got - pixels[i * 3 + c]))
            }
        }
        let mean = image.pixels.reduce(0.0) { $0 + Double($1) } / Double(image.pixels.count)
        if isJPEG {
            // Different libjpeg-turbo builds may round the IDCT differently by a level or two.
            #expect(worst <= 2, "\(name): sampled pixels differ by up to \(worst)")
            #expect(abs(mean - jsonDouble(facts["mean"]!)) < 0.05)
        } else {
            #expect(worst == 0)
            #expect(fnv1a64(image.pixels) == facts["fnv1a64"] as? String, "\(name) differs from PIL")
        }
    }

    @Test(arguments: synthetic.keys.sorted())
    func syntheticLayoutDecodesAsPILDoes(name: String) throws {
        let facts = Self.synthetic[name] as! [String: Any]
        let image = try ImageDecoder.decode(path: Fixtures.path("images/" + name)).rgb()
        let want = try Fixtures.bytes("images/" + name + ".rgb")
        #expect(image.width == (facts["width"] as! NSNumber).intValue)
        #expect(image.height == (facts["height"] as! NSNumber).intValue)
        #expect(image.pixels.count == want.count)
        let worst = zip(image.pixels, want).map { abs(Int($0) - Int($1)) }.max() ?? 0
        if facts["exact"] as! Bool {
            #expect(worst == 0, "\(name): differs from PIL by up to \(worst)")
        } else {
            #expect(worst <= 2, "\(name): differs from PIL by up to \(worst)")
        }
    }

    @Test func decodersKeepChannelLayouts() throws {
        #expect(try ImageDecoder.decode(path: Fixtures.path("images/gray.png")).channels == 1)
        #expect(try ImageDecoder.decode(path: Fixtures.path("images/gray_alpha.png")).channels == 2)
        #expect(try ImageDecoder.decode(path: Fixtures.path("images/rgba.png")).channels == 4)
        #expect(try ImageDecoder.decode(path: Fixtures.path("images/palette_trns.png")).channels == 4)
        #expect(try ImageDecoder.decode(path: Fixtures.path("images/gray.jpg")).channels == 1)
    }

    @Test func maskBMPsReadAsGray() throws {
        let mask = try ImageDecoder.decode(path: Fixtures.samplePath("masks/dog_segmentation_mask.bmp")).gray()
        #expect(mask.width == 128 && mask.height == 128)
        let objectPixels = mask.pixels.filter { $0 != 0 }.count
        #expect(objectPixels > 0 && objectPixels < 128 * 128)
    }

    @Test func pngEncodeRoundTrips() throws {
        for name in ["rgb.png", "rgba.png", "gray.png", "gray_alpha.png"] {
            let image = try ImageDecoder.decode(path: Fixtures.path("images/" + name))
            let encoded = try PNGEncoder.encode(image)
            let decoded = try ImageDecoder.decode(data: Data(encoded), path: "memory")
            #expect(decoded == image, "\(name) did not round-trip")
        }
    }
}
