import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore

/// A row of `integrations`: everything about a connection except its credential.
public struct IntegrationRecord: Sendable, Equatable {
    public let id: UUID
    public let provider: String
    public let displayName: String
    public let authType: AuthType
    public let status: IntegrationStatus
    public let connectionParameters: [String: String]
    public let endUserID: String?
    public let tags: [String]
    /// From recent outcomes, set by the scheduler; `nil` until the integration has had jobs.
    public let health: IntegrationHealth?
    /// The provider's id of the connected account (Slack team, Stripe account): matches events from shared endpoints.
    public let providerAccountID: String?
    public let createdAt: Date
    public let updatedAt: Date

    static let columns =
        "id, provider, display_name, auth_type, status, connection_parameters::text, end_user_id, tags, created_at, updated_at, health::text, provider_account_id"
    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "integrations")
        id = try row("id")
        provider = try row("provider")
        displayName = try row("display_name")
        authType = try row.value("auth_type")
        status = try row.value("status")
        connectionParameters = try row.json("connection_parameters")
        endUserID = try row("end_user_id")
        tags = try row("tags")
        createdAt = try row("created_at")
        updatedAt = try row("updated_at")
        health = try row.jsonIfPresent("health", decoder: IntegrationHealth.decoder)
        providerAccountID = try row("provider_account_id")
    }
}

/// What creating an integration needs.
public struct NewIntegration: Sendable {
    public var provider: String
    public var displayName: String
    public var status: IntegrationStatus
    public var connectionParameters: [String: String]
    public var endUserID: String?
    public var tags: [String]
    public var credential: IntegrationCredential

    public init(
        provider: String,
        displayName: String,
        status: IntegrationStatus,
        connectionParameters: [String: String],
        endUserID: String?,
        tags: [String],
        credential: IntegrationCredential
    ) {
        self.provider = provider
        self.displayName = displayName
        self.status = status
        self.connectionParameters = connectionParameters
        self.endUserID = endUserID
        self.tags = tags
        self.credential = credential
    }
}

/// Which integrations a list shows.
public struct IntegrationFilter: Sendable {
    public var provider: String?
    public var status: IntegrationStatus?
    public var tag: String?

    public init(provider: String? = nil, status: IntegrationStatus? = nil, tag: String? = nil) {
        self.provider = provider
        self.status = status
        self.tag = tag
    }
}

/// Metadata changes; `nil` leaves a field as it is.
public struct IntegrationUpdate: Sendable {
    public var displayName: String?
    public var endUserID: String?
    public var tags: [String]?
    public var providerAccountID: String?

    public init(displayName: String? = nil, endUserID: String? = nil, tags: [String]? = nil, providerAccountID: String? = nil) {
        self.displayName = displayName
        self.endUserID = endUserID
        self.tags = tags
        self.providerAccountID = providerAccountID
    }
}

extension TenantTransaction {
    /// Inserts the integration and its sealed credential.
    public func createIntegration(_ new: NewIntegration) async throws -> IntegrationRecord {
        let id = UUID.v7()
        let parameters = String(decoding: try JSONEncoder().encode(new.connectionParameters), as: UTF8.self)
        let rows = try await query(
            """
            INSERT INTO integrations (tenant_id, id, provider, display_name, auth_type, status, connection_parameters, end_user_id, tags)
            VALUES (\(tenantID.rawValue), \(id), \(new.provider), \(new.displayName), \(new.credential.authType.rawValue), \(new.status.rawValue), \(parameters)::jsonb, \(new.endUserID), \(new.tags))
            RETURNING \(unescaped: IntegrationRecord.columns)
            """
        ).collect()
        try await storeCredential(new.credential, for: id)
        return try IntegrationRecord(row: rows[0])
    }

    public func integration(_ id: UUID) async throws -> IntegrationRecord? {
        try await connection.guardedExecute(IntegrationByIDStatement(tenant: tenantID.rawValue, id: id), statements, logger: logger).first
    }

    public func integrations(_ filter: IntegrationFilter, page: PageRequest) async throws -> Page<IntegrationRecord> {
        let rows = try await query(
            """
            SELECT \(unescaped: IntegrationRecord.columns) FROM integrations
             WHERE tenant_id = \(tenantID.rawValue)
               AND (\(page.cursor?.lastID)::uuid IS NULL OR id > \(page.cursor?.lastID))
               AND (\(filter.provider)::text IS NULL OR provider = \(filter.provider))
               AND (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue))
               AND (\(filter.tag)::text IS NULL OR tags @> ARRAY[\(filter.tag)::text])
             ORDER BY id LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(IntegrationRecord.init(row:)), limit: page.limit, id: \.id)
    }

    public func updateIntegration(_ id: UUID, _ update: IntegrationUpdate) async throws -> IntegrationRecord? {
        try await query(
            """
            UPDATE integrations
               SET display_name = coalesce(\(update.displayName), display_name), end_user_id = coalesce(\(update.endUserID), end_user_id),
                   tags = coalesce(\(update.tags), tags), provider_account_id = coalesce(\(update.providerAccountID), provider_account_id), updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            RETURNING \(unescaped: IntegrationRecord.columns)
            """
        ).collect().first.map(IntegrationRecord.init(row:))
    }

    /// Deletes the integration and its credential. Returns whether it existed.
    public func deleteIntegration(_ id: UUID) async throws -> Bool {
        // Its webhook sources stay, detached (the foreign key does not do it: see migration 0032).
        try await query("UPDATE webhook_sources SET integration_id = NULL WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(id)")
        return try await query("DELETE FROM integrations WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) RETURNING id")
            .decode(UUID.self).collect().isEmpty == false
    }

    /// Seals and stores (or replaces) the credential of integration `id`. What follows from it (an OAuth token's
    /// refresh job) is the caller's: see `RefreshSchedule` in SwitchyardOAuth.
    public func storeCredential(_ credential: IntegrationCredential, for id: UUID) async throws {
        let document = try JSONEncoder().encode(credential)
        let sealed = try await seal(document, field: .integrationCredential, row: id)
        let expiresAt: Date? = if case .oauth2(let tokens) = credential { tokens.expiresAt } else { nil }
        try await query(
            """
            INSERT INTO integration_credentials (tenant_id, integration_id, secret, dek_id, expires_at)
            VALUES (\(tenantID.rawValue), \(id), \(ByteBuffer(bytes: sealed.bytes)), \(sealed.dataKeyID), \(expiresAt))
            ON CONFLICT (tenant_id, integration_id) DO UPDATE
               SET secret = EXCLUDED.secret, dek_id = EXCLUDED.dek_id, expires_at = EXCLUDED.expires_at, updated_at = now()
            """
        )
    }

    /// The opened credential of integration `id`, or `nil` when it has none.
    public func credential(for id: UUID) async throws -> IntegrationCredential? {
        let rows = try await connection.guardedExecute(
            SealedCredentialStatement(tenant: tenantID.rawValue, integration: id),
            statements,
            logger: logger
        )
        guard let sealed = rows.first else { return nil }
        let document = try await open(sealed.readableBytesView, field: .integrationCredential, row: id)
        return try JSONDecoder().decode(IntegrationCredential.self, from: Data(document))
    }
}

extension IntegrationHealth {
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()
}

extension TenantTransaction {
    /// Stores the integration's health and returns the status it had before (`nil`: none, or no such integration).
    public func setIntegrationHealth(_ id: UUID, _ health: IntegrationHealth) async throws -> IntegrationHealth.Status? {
        let document = String(decoding: try IntegrationHealth.encoder.encode(health), as: UTF8.self)
        let rows = try await query(
            """
            UPDATE integrations i SET health = \(document)::jsonb
              FROM (SELECT health->>'status' AS status FROM integrations WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) FOR UPDATE) previous
             WHERE i.tenant_id = \(tenantID.rawValue) AND i.id = \(id)
            RETURNING previous.status
            """
        ).decode(String?.self).collect()
        return rows.first.flatMap { $0.flatMap(IntegrationHealth.Status.init(rawValue:)) }
    }
}

extension TenantTransaction {
    /// The credential of integration `id`, with its row locked until the transaction ends: the one place a
    /// refresh decides, so concurrent refreshers in any process queue here and re-read (REQUIREMENTS OA-6).
    public func lockedCredential(for id: UUID) async throws -> IntegrationCredential? {
        let rows = try await query(
            "SELECT secret FROM integration_credentials WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(id) FOR UPDATE"
        ).decode(ByteBuffer.self).collect()
        guard let sealed = rows.first else { return nil }
        let document = try await open(sealed.readableBytesView, field: .integrationCredential, row: id)
        return try JSONDecoder().decode(IntegrationCredential.self, from: Data(document))
    }

    /// Deletes the credential's ciphertext; returns whether there was one.
    @discardableResult
    public func deleteCredential(for id: UUID) async throws -> Bool {
        try await query(
            "DELETE FROM integration_credentials WHERE tenant_id = \(tenantID.rawValue) AND integration_id = \(id) RETURNING integration_id"
        )
        .decode(UUID.self).collect().isEmpty == false
    }

    /// Sets the status (and, when given, the connection parameters) of integration `id`.
    @discardableResult
    public func setIntegrationStatus(
        _ id: UUID,
        _ status: IntegrationStatus,
        connectionParameters: [String: String]? = nil
    ) async throws -> IntegrationRecord? {
        let parameters = try connectionParameters.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return try await query(
            """
            UPDATE integrations
               SET status = \(status.rawValue), connection_parameters = coalesce(\(parameters)::jsonb, connection_parameters), updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            RETURNING \(unescaped: IntegrationRecord.columns)
            """
        ).collect().first.map(IntegrationRecord.init(row:))
    }
}

extension TenantTransaction {
    /// The integration connected to the provider account `accountID`, when exactly one is.
    public func integration(providerAccountID accountID: String) async throws -> IntegrationRecord? {
        let rows = try await query(
            "SELECT \(unescaped: IntegrationRecord.columns) FROM integrations WHERE tenant_id = \(tenantID.rawValue) AND provider_account_id = \(accountID) LIMIT 2"
        ).collect()
        return rows.count == 1 ? try IntegrationRecord(row: rows[0]) : nil
    }
}
