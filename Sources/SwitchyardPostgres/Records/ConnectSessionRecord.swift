import Foundation
import PostgresNIO
import SwitchyardCore

/// A row of `connect_sessions`: what an end user holding the session's link may connect.
public struct ConnectSessionRecord: Sendable, Equatable {
    public let tenantID: TenantID
    public let id: UUID
    public let allowedProviders: [String]
    /// The integration to re-authorize instead of creating a new one.
    public let integrationID: UUID?
    public let endUserID: String?
    public let tags: [String]
    public let extraScopes: [String]
    public let connectionParameters: [String: String]
    public let returnTo: String?
    public let expiresAt: Date
    public let completedAt: Date?
    public let createdAt: Date

    static let columns = """
        tenant_id, id, allowed_providers, integration_id, end_user_id, tags, extra_scopes, connection_parameters::text,
        return_to, expires_at, completed_at, created_at
        """
    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "connect_sessions")
        tenantID = TenantID(try row("tenant_id"))
        id = try row("id")
        allowedProviders = try row("allowed_providers")
        integrationID = try row("integration_id")
        endUserID = try row("end_user_id")
        tags = try row("tags")
        extraScopes = try row("extra_scopes")
        connectionParameters = try row.json("connection_parameters")
        returnTo = try row("return_to")
        expiresAt = try row("expires_at")
        completedAt = try row("completed_at")
        createdAt = try row("created_at")
    }

    /// Usable: neither expired nor completed.
    public func isOpen(at now: Date = Date()) -> Bool { completedAt == nil && expiresAt > now }
}

/// What creating a connect session needs; the token is made by the caller, only its hash is stored.
public struct NewConnectSession: Sendable {
    public var tokenHash: [UInt8]
    public var allowedProviders: [String]
    public var integrationID: UUID?
    public var endUserID: String?
    public var tags: [String]
    public var extraScopes: [String]
    public var connectionParameters: [String: String]
    public var returnTo: String?
    public var expiresAt: Date

    public init(
        tokenHash: [UInt8],
        allowedProviders: [String],
        integrationID: UUID?,
        endUserID: String?,
        tags: [String],
        extraScopes: [String],
        connectionParameters: [String: String],
        returnTo: String?,
        expiresAt: Date
    ) {
        self.tokenHash = tokenHash
        self.allowedProviders = allowedProviders
        self.integrationID = integrationID
        self.endUserID = endUserID
        self.tags = tags
        self.extraScopes = extraScopes
        self.connectionParameters = connectionParameters
        self.returnTo = returnTo
        self.expiresAt = expiresAt
    }
}

extension TenantTransaction {
    public func createConnectSession(_ new: NewConnectSession) async throws -> ConnectSessionRecord {
        let parameters = try JSONText.encode(new.connectionParameters)
        let rows = try await query(
            """
            INSERT INTO connect_sessions (tenant_id, id, token_hash, allowed_providers, integration_id, end_user_id, tags,
                                          extra_scopes, connection_parameters, return_to, expires_at)
            VALUES (\(tenantID.rawValue), \(UUID.v7()), \(ByteBuffer(bytes: new.tokenHash)), \(new.allowedProviders), \(new.integrationID), \(new.endUserID), \(new.tags), \(new.extraScopes), \(parameters)::jsonb, \(new.returnTo), \(new.expiresAt))
            RETURNING \(unescaped: ConnectSessionRecord.columns)
            """
        ).collect()
        // Expired sessions are of no use to anyone; clearing the tenant's old ones here keeps the table small.
        try await query("DELETE FROM connect_sessions WHERE tenant_id = \(tenantID.rawValue) AND expires_at < now() - interval '1 day'")
        return try ConnectSessionRecord(row: rows[0])
    }

    /// The session with this token hash, open or not.
    public func connectSession(tokenHash: [UInt8]) async throws -> ConnectSessionRecord? {
        try await query(
            "SELECT \(unescaped: ConnectSessionRecord.columns) FROM connect_sessions WHERE tenant_id = \(tenantID.rawValue) AND token_hash = \(ByteBuffer(bytes: tokenHash))"
        ).collect().first.map(ConnectSessionRecord.init(row:))
    }

    /// Marks the session used up; false when it already was (or has expired).
    public func completeConnectSession(_ id: UUID) async throws -> Bool {
        try await query(
            """
            UPDATE connect_sessions SET completed_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) AND completed_at IS NULL
            RETURNING id
            """
        ).decode(UUID.self).collect().isEmpty == false
    }
}

extension TenantTransaction {
    /// Makes a session claimed by a callback usable again, after that callback failed to connect.
    public func reopenConnectSession(_ id: UUID) async throws {
        try await query("UPDATE connect_sessions SET completed_at = NULL WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)")
    }
}

extension OperatorTransaction {
    /// Which tenant a connect token belongs to: the public connect page knows nothing else.
    public func connectSessionTenant(tokenHash: [UInt8]) async throws -> TenantID? {
        try await query("SELECT tenant_id FROM connect_sessions WHERE token_hash = \(ByteBuffer(bytes: tokenHash))")
            .decode(UUID.self).collect().first.map(TenantID.init)
    }
}
