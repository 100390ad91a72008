import Foundation
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres

/// Runs `oauth.refresh` jobs with the same single-flight refresher the API uses (REQUIREMENTS OA-5..OA-7):
/// a refused grant dead-letters the job (the refresher has marked the integration `needs_reauth`);
/// a provider's 5xx or an unreachable provider is retried with the queue's backoff.
public struct OAuthRefreshHandler: JobHandler {
    let database: Database
    let refresher: TokenRefresher

    public init(database: Database, refresher: TokenRefresher) {
        self.database = database
        self.refresher = refresher
    }

    public func run(_ payload: OAuthRefreshPayload, context: JobContext) async throws {
        let (credential, status) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            (try await transaction.credential(for: payload.integrationID), try await transaction.integration(payload.integrationID)?.status)
        }
        // Deleted, disconnected, waiting for re-authorization, or refreshed meanwhile (the newer token has its own job).
        guard case .oauth2(let tokens)? = credential, let status, status != .needsReauth, status != .disconnected,
            let expiresAt = tokens.expiresAt, abs(expiresAt.timeIntervalSince1970 - payload.expiresAt) < 1
        else { return }
        do {
            _ = try await refresher.refresh(payload.integrationID, tenant: context.tenantID, force: true, logger: context.logger)
        } catch TokenEndpointError.invalidGrant {
            throw JobFailure.permanent("the provider refused the refresh token (invalid_grant); the integration needs re-authorization")
        }
    }
}
