import Foundation
import SwitchyardCore
import SwitchyardPostgres

extension TenantTransaction {
    /// Records that the integration's credential no longer works (OA-7): its status, an event for the tenant and an
    /// audit entry. Nothing retries it; a new connect session, or new credentials, bring it back. Its syncs stop
    /// being scheduled meanwhile (only connected integrations' syncs are due).
    public func markNeedsReauth(_ integrationID: UUID, reason: String) async throws {
        try await setIntegrationStatus(integrationID, .needsReauth)
        try await recordEvent("integration.needs_reauth", integrationID: integrationID, data: ["reason": reason])
        try await recordAudit(
            NewAuditEvent(
                actor: "switchyard",
                action: "integration.needs_reauth",
                resourceType: "integration",
                resourceID: integrationID.lowercasedString,
                requestID: nil,
                details: ["reason": reason]
            )
        )
    }
}
