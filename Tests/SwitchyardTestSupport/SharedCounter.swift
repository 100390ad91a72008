import Synchronization

/// A count that concurrent tasks add to (how many builds, unwraps or calls a test saw).
public final class SharedCounter: Sendable {
    private let count = Mutex(0)

    public init() {}

    public func add() { count.withLock { $0 += 1 } }
    public var value: Int { count.withLock { $0 } }
}
