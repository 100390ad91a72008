import Foundation
import PostgresNIO
import SwitchyardCore

/// A portal session as a request finds it through its cookie.
public struct PortalSessionRecord: Sendable, Equatable {
    public let tenantID: TenantID
    public let id: UUID
    public let expiresAt: Date
}

extension TenantTransaction {
    /// Stores a one-time portal link (only its token's hash) and deletes the tenant's links that expired over a day
    /// ago, with their sessions. Returns the link's id.
    public func createPortalLink(tokenHash: [UInt8], createdBy: String, expiresAt: Date) async throws -> UUID {
        try await query("DELETE FROM portal_links WHERE tenant_id = \(tenantID.rawValue) AND expires_at < now() - interval '1 day'")
        let id = UUID.v7()
        try await query(
            """
            INSERT INTO portal_links (tenant_id, id, token_hash, created_by, expires_at)
            VALUES (\(tenantID.rawValue), \(id), \(ByteBuffer(bytes: tokenHash)), \(createdBy), \(expiresAt))
            """
        )
        return id
    }
}

extension OperatorTransaction {
    /// Whether a link can still be opened: known, unused and unexpired. (The page that shows the button asks; opening
    /// it decides, in one statement.)
    public func portalLinkIsOpen(tokenHash: [UInt8]) async throws -> Bool {
        try await query(
            """
            SELECT 1 FROM portal_links WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) AND used_at IS NULL AND expires_at > now()
            """
        ).collect().count == 1
    }

    /// Uses the link (once: a second caller finds it used) and starts a session for its tenant, in one statement.
    /// `nil` when the link is unknown, used or expired.
    public func openPortalSession(linkTokenHash: [UInt8], sessionTokenHash: [UInt8], lifetime: Duration) async throws -> PortalSessionRecord? {
        let id = UUID.v7()
        let rows = try await query(
            """
            WITH link AS (
                UPDATE portal_links SET used_at = now()
                 WHERE token_hash = \(ByteBuffer(bytes: linkTokenHash)) AND used_at IS NULL AND expires_at > now()
                RETURNING tenant_id, id)
            INSERT INTO portal_sessions (tenant_id, id, token_hash, link_id, expires_at)
            SELECT tenant_id, \(id), \(ByteBuffer(bytes: sessionTokenHash)), id, now() + \(lifetime.wholeMilliseconds) * interval '1 millisecond'
              FROM link
            RETURNING tenant_id, id, expires_at
            """
        ).collect()
        return try rows.first.map(Self.portalSession)
    }

    /// The live session a cookie names: not ended, not expired.
    public func portalSession(tokenHash: [UInt8]) async throws -> PortalSessionRecord? {
        let rows = try await query(
            """
            SELECT tenant_id, id, expires_at FROM portal_sessions
             WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) AND ended_at IS NULL AND expires_at > now()
            """
        ).collect()
        return try rows.first.map(Self.portalSession)
    }

    /// Ends the session a cookie names (logging out).
    public func endPortalSession(tokenHash: [UInt8]) async throws {
        try await query("UPDATE portal_sessions SET ended_at = now() WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) AND ended_at IS NULL")
    }

    private static func portalSession(_ row: PostgresRow) throws -> PortalSessionRecord {
        let row = NamedRow(row, table: "portal_sessions")
        return PortalSessionRecord(tenantID: TenantID(try row("tenant_id")), id: try row("id"), expiresAt: try row("expires_at"))
    }
}
