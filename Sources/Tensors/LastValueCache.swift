import Foundation

/// One remembered result: `value(for:make:)` returns the stored value when the key equals
/// the last one, else computes, stores and returns a new one. The key is compared in full
/// (arrays compare by buffer identity first, so a hit on the same buffer costs nothing),
/// so a stale value can never be returned. Used where the same costly work recurs on
/// every key press: the panel-sized image, GMP's Gram matrix.
public final class LastValueCache<Key: Equatable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var entry: (key: Key, value: Value)?

    public init() {}

    public func value(for key: Key, make: () -> Value) -> Value {
        lock.lock()
        if let entry, entry.key == key {
            defer { lock.unlock() }
            return entry.value
        }
        lock.unlock()
        let made = make()
        lock.lock()
        entry = (key, made)
        lock.unlock()
        return made
    }

    public func clear() {
        lock.lock()
        entry = nil
        lock.unlock()
    }
}
