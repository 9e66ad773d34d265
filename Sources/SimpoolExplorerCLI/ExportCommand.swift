import ArgumentParser
import Checkpoints
import Dispatch
import Explorer
import Foundation
import Imaging
import ModelRuntime
import Pooling
import Tensors
import TerminalCanvas

/// `simpool-explorer export PATH… --out DIR`: maps as files, for many images and methods.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write maps as files: <image stem>.<method>.L<layer>.<head>.<ext>.")

    @Argument(help: "Images, folders or glob patterns.")
    var paths: [String]

    @Option(help: "The folder the files go to (created if missing).")
    var out: String

    @OptionGroup var modelOptions: ModelOptions
    var model: String { modelOptions.model }

    @Option(help: "Methods with parameters, comma-separated, or all.")
    var method = "simpool"

    @Option(help: "Layer: a 1-based index, last or all.")
    var layer = "last"

    @Option(help: "Head for the [CLS] method and patch queries: a 1-based index, mean, max, min (fusions) or all.")
    var head = "mean"

    @Option(help: "ROW,COL: the maps from this patch (0-based on the patch grid, from the top-left): its attention row (cls), its rollout row (rollout), or with --similarity its features' cosine similarity. File names gain q<row>-<col>.")
    var query: String?

    @Flag(help: "With --query: the cosine similarity of the patch's features instead of its attention.")
    var similarity = false

    @Option(help: "Comma-separated: png, overlay, npy, csv, json, ansi, kitty, sixel (kitty and sixel: the still as that graphics protocol's escape stream, for cat in such a terminal).")
    var format = "png,npy,json"

    @Option(help: "grid (one value per patch) or image (the image's size) for png, npy and csv.")
    var size = "grid"

    @Option(help: "Threshold the maps at this attention mass before writing png/overlay/ansi.")
    var mass: Float?

    @Option(help: "Shorter image side fed to the model.")
    var resolution = 224

    @Option(help: "viridis, inferno, magma, turbo or gray.")
    var colormap: Colormap = .viridis

    @Flag(help: "Overwrite existing files (otherwise they are kept and named).")
    var force = false

    @Option(help: "K/N: process every N-th image from the K-th (0-based) of the sorted list.")
    var shard: String?

    @Option(help: "Images processed at once, each on one core (default: one per core; 1: one image at a time on every core, written while the next is computed).")
    var jobs: Int?

    func validate() throws {
        guard (jobs ?? 1) >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard size == "grid" || size == "image" else { throw ValidationError("--size is grid or image") }
        if let shard, ExportPlan.parseShard(shard) == nil { throw ValidationError("--shard must be K/N with 0 ≤ K < N") }
        for name in format.split(separator: ",") where ExportPlan.Format(rawValue: String(name)) == nil {
            throw ValidationError("unknown format '\(name)' (png, overlay, npy, csv, json, ansi, kitty, sixel)")
        }
        if layer != "last" && layer != "all" && (Int(layer) ?? 0) < 1 { throw ValidationError("--layer must be a number, last or all") }
        if head != "all" && HeadSelection(parsing: head) == nil { throw ValidationError("--head must be a number, mean, max, min or all") }
        if let query, Self.parseQuery(query) == nil { throw ValidationError("--query must be ROW,COL (0-based patch row and column)") }
        if let mass, !(mass > 0 && mass <= 1) { throw ValidationError("--mass must be in (0, 1]") }
        do { _ = try MethodCatalog.parse(method) } catch let error as PoolingError { throw ValidationError(error.description) }
    }

    static func parseQuery(_ text: String) -> (row: Int, column: Int)? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let row = Int(parts[0]), let column = Int(parts[1]), row >= 0, column >= 0 else { return nil }
        return (row, column)
    }

    func run() throws {
        let expansion = ImageList.expand(paths)
        var failures = expansion.problems
        for problem in expansion.problems { StandardError.write(problem) }
        var images = expansion.images.sorted()
        if let shard, let (k, n) = ExportPlan.parseShard(shard) { images = ExportPlan.shard(images, index: k, count: n) }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            StandardError.write("\(out): cannot create the output folder")
            throw ExitCode(ExitStatus.inputFailed)
        }
        let loaded = try modelOptions.load(resolution: resolution)
        let summary = loaded.backbone.summary
        let context = loaded.poolingContext
        // `all` is every method that applies: the attention-pool head only where there is one.
        let specifications = try MethodCatalog.parse(method).filter {
            $0.name != "attnpool" || context.attentionPoolWeights != nil || method.trimmingCharacters(in: .whitespaces) != "all"
        }
        let layers: [Int] = layer == "all" ? Array(0..<summary.layerCount)
            : layer == "last" ? [summary.layerCount - 1] : [Int(layer)! - 1]
        if let last = layers.last, last >= summary.layerCount {
            throw ValidationError("--layer \(last + 1): the model has \(summary.layerCount) layers")
        }
        let heads: [HeadSelection] = head == "all" ? [.mean] + (0..<(summary.heads ?? 0)).map(HeadSelection.index)
            : [HeadSelection(parsing: head)!]
        let formats = format.split(separator: ",").compactMap { ExportPlan.Format(rawValue: String($0)) }
        let job = MapExporter(loader: ImageLoader(model: loaded, labels: nil), version: SimpoolExplorer.version, modelName: model, architecture: summary.name,
                            context: context, isTransformer: summary.family == .vit, specifications: specifications,
                            layers: layers, heads: heads, formats: formats, imageSize: size == "image", mass: mass,
                            resolution: resolution, colormap: colormap, force: force, out: out,
                            query: query.flatMap(Self.parseQuery).map { ExplorerState.Query(row: $0.row, column: $0.column, similarity: similarity) })

        let progress = Progress(total: images.count)
        let tally = Tally()
        Interruption.install()
        // Whole images side by side scale with no synchronisation inside a forward pass:
        // measured 1.8 s against 2.2 s for the 14 samples on 2 cores.
        let jobs = self.jobs ?? min(ProcessInfo.processInfo.activeProcessorCount, images.count)
        if jobs > 1 {
            exportWholeImagesInParallel(images, jobs: jobs, job: job, progress: progress, tally: tally)
        } else {
            exportPipelined(images, job: job, progress: progress, tally: tally)
        }
        progress.finish()
        let (written, skipped, failed) = (tally.written, tally.skipped, tally.failed)
        for path in skipped { StandardError.write("\(path): exists; kept (use --force to overwrite)") }
        failures += failed
        StandardError.write("exported \(tally.done - failed.count) of \(images.count) images: \(written) files written"
                            + (skipped.isEmpty ? "" : ", \(skipped.count) kept") + " in \(out)")
        if Interruption.requested {
            StandardError.write("interrupted after \(tally.done) of \(images.count) images; every file written is complete. "
                                + "Run the same command again to export the rest (existing files are kept).")
            throw ExitCode(130)
        }
        if !failures.isEmpty { throw ExitCode(ExitStatus.inputFailed) }
    }

    /// Whole images in parallel, each on one thread (the default with several images).
    private func exportWholeImagesInParallel(_ images: [String], jobs: Int, job: MapExporter, progress: Progress, tally: Tally) {
        ComputeThreads.set(1)
        let queue = DispatchQueue(label: "simpool-explorer.export", attributes: .concurrent)
        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: jobs)
        for image in images {
            slots.wait()
            if Interruption.requested {
                slots.signal()
                break
            }
            group.enter()
            queue.async {
                let outcome = job.export(image)
                for line in outcome.warnings + outcome.problems { StandardError.write(line) }
                tally.add(outcome) { progress.advance(image: image, problem: outcome.failure) }
                slots.signal()
                group.leave()
            }
        }
        group.wait()
    }

    /// `--jobs 1` (or a single image): a pipeline. The forward pass of the next image (on every core) runs
    /// while the previous one is pooled and written, so the writing hides behind the model.
    /// At most one image waits to be written, which keeps memory flat.
    private func exportPipelined(_ images: [String], job: MapExporter, progress: Progress, tally: Tally) {
        ComputeThreads.set(ProcessInfo.processInfo.activeProcessorCount)
        let writer = DispatchQueue(label: "simpool-explorer.export.writer")
        let pending = DispatchSemaphore(value: 1)
        for image in images {
            if Interruption.requested { break }
            let prepared = job.prepare(image)
            pending.wait()
            writer.async {
                let outcome: MapExporter.Outcome
                switch prepared {
                case .success(let ready): outcome = job.write(ready)
                case .failure(let failed): outcome = failed.outcome
                }
                for line in outcome.warnings + outcome.problems { StandardError.write(line) }
                tally.add(outcome) { progress.advance(image: image, problem: outcome.failure) }
                pending.signal()
            }
        }
        writer.sync {}
    }
}

/// Ctrl-C or SIGTERM during an export: the image in hand is finished (no file is left
/// half-written or as a temporary), no new one is started. A second signal ends the
/// process at once.
enum Interruption {
    nonisolated(unsafe) static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        // A parent may have started us with these signals blocked (a thread of a test
        // runner or a job scheduler); unblock them so the handler can run.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for number in [SIGINT, SIGTERM] {
            signal(number) { received in
                Interruption.flag = 1
                signal(received, SIG_DFL)
            }
        }
    }
}

/// Totals gathered from the workers.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var written = 0
    private(set) var skipped: [String] = []
    private(set) var failed: [String] = []
    private(set) var done = 0

    func add(_ outcome: MapExporter.Outcome, then report: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        written += outcome.written
        skipped += outcome.skipped
        if let problem = outcome.failure { failed.append(problem) }
        report()
    }
}

/// Progress on standard error: a bar on a terminal, plain lines otherwise.
final class Progress: @unchecked Sendable {
    let total: Int
    let isTerminal = isatty(STDERR_FILENO) != 0
    private var done = 0
    private let start = DispatchTime.now().uptimeNanoseconds

    init(total: Int) { self.total = total }

    func advance(image: String, problem: String?) {
        done += 1
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let rate = Double(done) / max(seconds, 1e-9)
        if isTerminal {
            let width = 30, filled = total == 0 ? width : width * done / total
            let eta = rate > 0 ? Double(total - done) / rate : 0
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            FileHandle.standardError.write(Data(String(format: "\r[%@] %d/%d  %.1f img/s  ETA %.0fs ", bar, done, total, rate, eta).utf8))
        } else {
            StandardError.write("\(done)/\(total) \((image as NSString).lastPathComponent)" + (problem == nil ? "" : " (failed)"))
        }
    }

    func finish() {
        if isTerminal && total > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
