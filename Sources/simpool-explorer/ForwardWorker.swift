import Dispatch
import Explorer
import Foundation
import SimpoolExplorerCLI

/// Runs forward passes off the UI thread, one at a time, and hands the results back as
/// actions for the main loop to reduce.
final class ForwardWorker: @unchecked Sendable {
    private let loader: ImageLoader
    private let queue = DispatchQueue(label: "simpool-explorer.forward", qos: .userInitiated)
    private let lock = NSLock()
    private var mailbox: [ExplorerAction] = []
    private var inFlight = Set<String>()

    init(loader: ImageLoader) { self.loader = loader }

    /// Queues image `index` unless the same work is already queued.
    func request(index: Int, path: String, resolution: Int) {
        let key = "\(index)@\(resolution)"
        lock.lock()
        let fresh = inFlight.insert(key).inserted
        lock.unlock()
        guard fresh else { return }
        queue.async { [self] in
            let action: ExplorerAction
            do {
                action = .loaded(index: index, result: try loader.load(path: path, resolution: resolution))
            } catch {
                action = .failed(index: index, message: Self.reason(error, path: path))
            }
            lock.lock()
            mailbox.append(action)
            inFlight.remove(key)
            lock.unlock()
        }
    }

    /// Writes the files of an export request on the worker's queue (after the forward
    /// passes already queued) and reports where they went, or what failed, as a message.
    func export(_ request: ExportRequest, state: ExplorerState, configuration: BrowseConfiguration) {
        let exporter = MapExporter(
            loader: loader, version: configuration.version, modelName: configuration.model.name,
            architecture: configuration.model.architecture, context: state.model.context,
            isTransformer: state.model.isTransformer, specifications: request.methods, layers: [request.layer],
            heads: [request.head], formats: [.png, .npy, .json], imageSize: false, mass: state.thresholdOn ? state.mass : nil,
            resolution: state.resolution, colormap: state.colormap, force: true, out: state.exportDirectory)
        let jobs = request.indices.map { (path: state.entries[$0].path, result: state.entries[$0].result) }
        let resolution = state.resolution
        queue.async { [self] in
            var written = 0
            var problems: [String] = []
            do {
                try FileManager.default.createDirectory(atPath: exporter.out, withIntermediateDirectories: true)
                for job in jobs {
                    let outcome = exporter.export(job.path, computed: job.result?.resolution == resolution ? job.result : nil)
                    written += outcome.written
                    problems += outcome.problems
                }
            } catch {
                problems.append("\(exporter.out): cannot create the folder")
            }
            let text = problems.isEmpty
                ? "exported \(written) files to \(exporter.out)/"
                : "export: \(problems[0])" + (problems.count > 1 ? " (+\(problems.count - 1) more)" : "") + "; \(written) files written"
            lock.lock()
            mailbox.append(.message(text))
            lock.unlock()
        }
    }

    /// The actions that arrived since the last call.
    func drain() -> [ExplorerAction] {
        lock.lock()
        defer { lock.unlock() }
        let actions = mailbox
        mailbox.removeAll()
        return actions
    }

    /// The problem without the path, which the status line already names.
    private static func reason(_ error: Error, path: String) -> String {
        let text = String(describing: error)
        return text.hasPrefix(path + ": ") ? String(text.dropFirst(path.count + 2)) : text
    }
}
