import Dispatch
import Explorer
import Foundation

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
