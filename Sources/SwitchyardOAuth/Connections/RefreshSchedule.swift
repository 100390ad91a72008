import Foundation
import SwitchyardCore
import SwitchyardPostgres

/// A stored OAuth token with a refresh token and an expiry gets its `oauth.refresh` job, due before the token
/// expires, in the transaction that stores it: the OAuth module's rule, applied by each of its use cases that
/// store a token (the callback, the refresh), not by persistence.
enum RefreshSchedule {
    static func job(for credential: IntegrationCredential, integration id: UUID) throws -> NewJob? {
        guard case .oauth2(let tokens) = credential, tokens.refreshToken != nil, let expiresAt = tokens.expiresAt else { return nil }
        let payload = OAuthRefreshPayload(integrationID: id, expiresAt: expiresAt)
        return try NewJob(payload, integrationID: id, runAt: OAuthRefreshPayload.refreshTime(expiresAt: expiresAt), uniqueKey: payload.uniqueKey)
    }
}

extension TenantTransaction {
    /// Enqueues the refresh of `credential` when it has one to schedule.
    func scheduleRefresh(of credential: IntegrationCredential, integration id: UUID) async throws {
        if let job = try RefreshSchedule.job(for: credential, integration: id) { try await enqueue(job) }
    }
}
