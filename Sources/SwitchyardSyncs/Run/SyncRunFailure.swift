/// Why a run stopped, in words for the tenant (the run's `error`, the `sync.failed` event), and whether trying the
/// same page again later can help.
public struct SyncRunFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The definition, the page or the provider's answer is wrong: the run fails, keeping what it committed.
        case permanent
        /// The provider is busy or away: the run's job retries from the first uncommitted page.
        case transient(retryAfter: Duration?)
    }

    public let kind: Kind
    public let message: String

    public var description: String { message }

    static func definition(_ message: String) -> Self { Self(kind: .permanent, message: "The sync definition cannot be run: \(message).") }
    static func page(_ number: Int, _ message: String) -> Self { Self(kind: .permanent, message: "Page \(number): \(message).") }
    static func transient(_ message: String, retryAfter: Duration? = nil) -> Self { Self(kind: .transient(retryAfter: retryAfter), message: message) }
    static func permanent(_ message: String) -> Self { Self(kind: .permanent, message: message) }
}

/// The run a page was for has moved on without this attempt: another attempt of its job committed the page, or the
/// run finished. The attempt's transaction is rolled back and it stops.
struct SyncRunSuperseded: Error, Sendable {}
