import Foundation

/// `oauth.refresh`: refresh an integration's OAuth access token before it expires (REQUIREMENTS OA-5).
///
/// Enqueued whenever a refreshable token is stored, in the same transaction, due a while before the
/// token expires; the job does nothing if a newer token has been stored since (that one has its own job).
public struct OAuthRefreshPayload: JobPayload, Equatable {
    public static let kind = "oauth.refresh"
    /// A provider's token endpoint may be down for a while; the token is refreshed well before it expires.
    public static let maxAttempts = 8
    public var integrationID: UUID
    /// The expiry (seconds since 1970) of the token this job is to replace.
    public var expiresAt: Double

    public init(integrationID: UUID, expiresAt: Date) {
        self.integrationID = integrationID
        self.expiresAt = expiresAt.timeIntervalSince1970
    }

    enum CodingKeys: String, CodingKey {
        case integrationID = "integration_id"
        case expiresAt = "expires_at"
    }

    /// Refresh five minutes before expiry, or halfway through a shorter lifetime, so that short-lived
    /// tokens are not refreshed back to back.
    public static func refreshTime(expiresAt: Date, now: Date = Date()) -> Date {
        let lifetime = max(0, expiresAt.timeIntervalSince(now))
        return expiresAt.addingTimeInterval(-min(300, lifetime / 2))
    }

    /// Stands for this token in the job's unique key: one refresh job per token, whoever stores it.
    public var uniqueKey: String { "\(integrationID.uuidString.lowercased()):\(Int64(expiresAt))" }
}
