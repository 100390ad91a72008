import Foundation

/// `sync.run`: one run of a sync for one integration. The job's id is the run's id, so each attempt of the job
/// continues the run from its last committed page.
public struct SyncRunPayload: JobPayload, Equatable {
    public static let kind = "sync.run"
    /// Transient failures (a provider's 5xx or 429, the database away) are retried from the last committed page.
    public static let maxAttempts = 6
    public var integrationID: UUID
    public var sync: String

    public init(integrationID: UUID, sync: String) {
        self.integrationID = integrationID
        self.sync = sync
    }

    enum CodingKeys: String, CodingKey {
        case integrationID = "integration_id"
        case sync
    }

    /// One active run per integration and sync: a second trigger while one is queued or running finds it instead.
    public var uniqueKey: String { "\(integrationID.uuidString.lowercased()):\(sync)" }
}
