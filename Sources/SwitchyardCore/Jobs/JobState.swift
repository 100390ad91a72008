import Foundation

/// Where a job is in its life. `failed` means the last attempt failed and a retry is scheduled at
/// `run_at`; `dead` means the attempts are used up (or the failure was permanent) and the job waits
/// for a person to redrive it.
public enum JobState: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed, dead, cancelled

    /// States from which the job will run again without anyone's help.
    public var isActive: Bool { self == .queued || self == .running || self == .failed }
}

/// A job's payload: a named, versioned, `Codable` struct. The kind names its handler; the version
/// is stored beside the JSON so a handler can still read payloads enqueued by an older release.
public protocol JobPayload: Codable, Sendable {
    /// The job kind, e.g. `noop` or `oauth.refresh`: lower case, digits, `.`, `_`, `-`.
    static var kind: String { get }
    /// The payload's current shape; raise it when the shape changes and teach `decode(version:from:)` the old one.
    static var version: Int { get }
    /// How many attempts a job of this kind gets unless its enqueuer says otherwise: the kind's retry policy, kept
    /// with the kind rather than with whoever enqueues it.
    static var maxAttempts: Int { get }
    /// Reads a stored payload of `version`. The default reads only the current version.
    static func decode(version: Int, from json: Data) throws -> Self
}

extension JobPayload {
    public static var version: Int { 1 }
    public static var maxAttempts: Int { 10 }

    public static func decode(version: Int, from json: Data) throws -> Self {
        guard version == Self.version else { throw UnknownPayloadVersion(kind: kind, version: version) }
        return try JSONDecoder().decode(Self.self, from: json)
    }
}

/// A stored payload whose version this build cannot read.
public struct UnknownPayloadVersion: Error, CustomStringConvertible {
    public let kind: String
    public let version: Int
    public var description: String { "\(kind) payload version \(version) is not known to this build" }
}
