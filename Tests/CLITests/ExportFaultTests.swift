import Checkpoints
import Foundation
import Imaging
import Testing
import TestSupport

/// Export under faults: a full disk, a folder it may not write, a batch interrupted with
/// Ctrl-C. Whatever happens, every file present is complete, no temporary file is left,
/// and running the same command again finishes the job.
@Suite(.serialized)
struct ExportFaultTests {
    static let model = Fixtures.path("backbones/vit_cls.safetensors")
    static let images = Fixtures.samplePath("images")
    static let formats = ["png", "overlay", "npy", "json"]

    func exportArguments(_ out: String, model: String = model, resolution: String = "32") -> [String] {
        ["export", Self.images, "--out", out, "--model", model, "--resolution", resolution, "--method", "gem,how",
         "--format", Self.formats.joined(separator: ",")]
    }

    /// Every file in `out` is whole (it parses), none is a leftover temporary.
    func checkFolder(_ out: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(names.filter { $0.hasPrefix(".") || $0.hasSuffix(".partial") }.isEmpty, "leftovers: \(names)")
        for name in names {
            let path = (out as NSString).appendingPathComponent(name)
            if name.hasSuffix(".npy") { _ = try NPYFile.read(path: path) }
            if name.hasSuffix(".png") { _ = try ImageDecoder.decode(path: path) }
            if name.hasSuffix(".json") { _ = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) }
        }
        return names
    }

    var expectedCount: Int {
        let count = (try? FileManager.default.contentsOfDirectory(atPath: Self.images).count) ?? 0
        return count * 2 * Self.formats.count
    }

    @Test func fullDiskLosesNothingAndARerunCompletes() throws {
        let out = try Fixtures.temporaryDirectory().path
        // A 96 KB file-size limit (SIGXFSZ ignored, so writes fail with EFBIG as on a full
        // disk): the overlays do not fit, the small maps do.
        let limited = try CommandRunner.run(exportArguments(out),
                                            launcher: ["/bin/bash", "-c", "ulimit -f 96; trap '' XFSZ; exec \"$0\" \"$@\""])
        #expect(limited.status == 1)
        let failures = limited.standardError.split(separator: "\n").filter { $0.contains("cannot write") }
        #expect(!failures.isEmpty && failures.allSatisfy { $0.contains(out) && $0.contains("File too large") },
                "\(limited.standardError)")
        let first = try checkFolder(out)
        #expect(first.count < expectedCount && !first.isEmpty)
        let rerun = try CommandRunner.run(exportArguments(out))
        #expect(rerun.status == 0, "\(rerun.standardError)")
        #expect(rerun.standardError.contains("\(first.count) kept"))
        #expect(try checkFolder(out).count == expectedCount)
    }

    /// A real full file system, where this machine lets the tests mount a small tmpfs.
    @Test(.enabled(if: Self.canMountTmpfs(), "needs root and mount(2)"))
    func fullTmpfsReportsNoSpace() throws {
        let mountPoint = try Fixtures.temporaryDirectory().path
        #expect(Self.shell("mount -t tmpfs -o size=160k tmpfs '\(mountPoint)'") == 0)
        defer { _ = Self.shell("umount '\(mountPoint)'") }
        let result = try CommandRunner.run(exportArguments(mountPoint))
        #expect(result.status == 1)
        #expect(result.standardError.contains("No space left on device") || result.standardError.contains("no space left on device"),
                "\(result.standardError)")
        _ = try checkFolder(mountPoint)
    }

    /// Root ignores permission bits unless it gives up the capabilities that override them,
    /// which needs setpriv and the right to shrink the bounding set.
    static let privilegeDrop = ["/usr/bin/setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
    static func canTestPermissions() -> Bool {
        geteuid() != 0 || shell(privilegeDrop.joined(separator: " ") + " /bin/true") == 0
    }

    @Test(.enabled(if: Self.canTestPermissions(), "root without a way to drop CAP_DAC_OVERRIDE"))
    func unwritableFolderIsReportedPerFile() throws {
        let out = try Fixtures.temporaryDirectory().path
        chmod(out, 0o555)
        defer { chmod(out, 0o755) }
        let launcher = geteuid() == 0 ? Self.privilegeDrop : []
        let result = try CommandRunner.run(exportArguments(out), launcher: launcher)
        #expect(result.status == 1)
        let lines = result.standardError.split(separator: "\n").filter { $0.contains("cannot write") }
        #expect(lines.count == expectedCount, "\(result.standardError)")
        #expect(lines.allSatisfy { $0.lowercased().contains("permission denied") })
        #expect(try checkFolder(out).isEmpty)
    }

    @Test func interruptedBatchKeepsWholeFilesAndARerunCompletes() throws {
        let out = try Fixtures.temporaryDirectory().path
        // The bundled model at full size, so the batch takes long enough to interrupt.
        let model = Fixtures.samplePath("models/dinov2-vits14.safetensors")
        let arguments = exportArguments(out, model: model, resolution: "224")
        let process = Process()
        process.executableURL = CommandRunner.executable
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Progress lines ("2/14 name") arrive on stderr; interrupt after the second image.
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("\n2/") {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += chunk
        }
        kill(process.processIdentifier, SIGINT)
        seen += errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: seen, as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(text)")
        #expect(text.contains("interrupted after"))
        let first = try checkFolder(out)
        #expect(!first.isEmpty && first.count < expectedCount, "\(first.count) files")
        let rerun = try CommandRunner.run(arguments)
        #expect(rerun.status == 0, "\(rerun.standardError)")
        #expect(try checkFolder(out).count == expectedCount)
    }

    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " >/dev/null 2>&1"]
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func canMountTmpfs() -> Bool {
        guard geteuid() == 0, let probe = try? Fixtures.temporaryDirectory().path else { return false }
        guard shell("mount -t tmpfs -o size=64k tmpfs '\(probe)'") == 0 else { return false }
        return shell("umount '\(probe)'") == 0
    }
}
