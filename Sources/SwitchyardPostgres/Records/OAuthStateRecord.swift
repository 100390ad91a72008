import Foundation
import PostgresNIO
import SwitchyardCore

/// A row of `oauth_states`: one authorization request, as the callback needs it back (REQUIREMENTS OA-1).
public struct OAuthStateRecord: Sendable, Equatable {
    public let id: UUID
    public let provider: String
    /// The issuer the provider's `iss` must match (OA-4), when the provider has one.
    public let issuer: String?
    public let sessionID: UUID?
    public let integrationID: UUID?
    /// SHA-256 of the cookie of the browser that started the request, for requests started from the connect page.
    public let browserBinding: [UInt8]?
    public let redirectURI: String
    public let scopes: [String]
    public let connectionParameters: [String: String]
    public let endUserID: String?
    public let tags: [String]
    public let returnTo: String?
    /// The PKCE verifier, opened; nil when the provider takes no PKCE.
    public let codeVerifier: String?
    public let expiresAt: Date
    public let createdAt: Date

    public func isExpired(at now: Date = Date()) -> Bool { expiresAt <= now }
}

/// What starting an authorization request stores; the state itself is made by the caller, only its hash is stored.
public struct NewOAuthState: Sendable {
    public var stateHash: [UInt8]
    public var provider: String
    public var issuer: String?
    public var sessionID: UUID?
    public var integrationID: UUID?
    public var browserBinding: [UInt8]?
    public var redirectURI: String
    public var scopes: [String]
    public var connectionParameters: [String: String]
    public var endUserID: String?
    public var tags: [String]
    public var returnTo: String?
    public var codeVerifier: String?
    public var expiresAt: Date

    public init(
        stateHash: [UInt8],
        provider: String,
        issuer: String?,
        sessionID: UUID?,
        integrationID: UUID?,
        browserBinding: [UInt8]?,
        redirectURI: String,
        scopes: [String],
        connectionParameters: [String: String],
        endUserID: String?,
        tags: [String],
        returnTo: String?,
        codeVerifier: String?,
        expiresAt: Date
    ) {
        self.stateHash = stateHash
        self.provider = provider
        self.issuer = issuer
        self.sessionID = sessionID
        self.integrationID = integrationID
        self.browserBinding = browserBinding
        self.redirectURI = redirectURI
        self.scopes = scopes
        self.connectionParameters = connectionParameters
        self.endUserID = endUserID
        self.tags = tags
        self.returnTo = returnTo
        self.codeVerifier = codeVerifier
        self.expiresAt = expiresAt
    }
}

extension TenantTransaction {
    public func createOAuthState(_ new: NewOAuthState) async throws {
        let id = UUID.v7()
        let sealed = try await new.codeVerifier.asyncMap { try await seal(Array($0.utf8), field: .oauthStateCodeVerifier, row: id) }
        try await query(
            """
            INSERT INTO oauth_states (tenant_id, id, state_hash, provider, issuer, session_id, integration_id, browser_binding,
                                      redirect_uri, scopes, connection_parameters, end_user_id, tags, return_to,
                                      code_verifier, dek_id, expires_at)
            VALUES (\(tenantID.rawValue), \(id), \(ByteBuffer(bytes: new.stateHash)), \(new.provider), \(new.issuer), \(new.sessionID), \(new.integrationID), \(new.browserBinding.map { ByteBuffer(bytes: $0) }), \(new.redirectURI), \(new.scopes), \(JSONText.encode(new.connectionParameters))::jsonb, \(new.endUserID), \(new.tags), \(new.returnTo), \(sealed.map { ByteBuffer(bytes: $0.bytes) }), \(sealed?.dataKeyID), \(new.expiresAt))
            """
        )
        try await query("DELETE FROM oauth_states WHERE tenant_id = \(tenantID.rawValue) AND expires_at < now() - interval '1 day'")
    }

    /// Takes the state with this hash, once: the first caller gets it and marks it used; every later one gets nil.
    /// Expired states are returned (marked used too) so the caller can say why it refuses them.
    public func consumeOAuthState(stateHash: [UInt8]) async throws -> OAuthStateRecord? {
        let rows = try await query(
            """
            UPDATE oauth_states SET used_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND state_hash = \(ByteBuffer(bytes: stateHash)) AND used_at IS NULL
            RETURNING id, provider, issuer, session_id, integration_id, browser_binding, redirect_uri, scopes,
                      connection_parameters::text, end_user_id, tags, return_to, code_verifier, expires_at, created_at
            """
        ).decode(
            (UUID, String, String?, UUID?, UUID?, ByteBuffer?, String, [String], String, String?, [String], String?, ByteBuffer?, Date, Date).self
        ).collect()
        guard let row = rows.first else { return nil }
        let verifier = try await row.12.asyncMap { sealed in
            String(decoding: try await open(sealed.readableBytesView, field: .oauthStateCodeVerifier, row: row.0), as: UTF8.self)
        }
        return OAuthStateRecord(
            id: row.0,
            provider: row.1,
            issuer: row.2,
            sessionID: row.3,
            integrationID: row.4,
            browserBinding: row.5.map { Array($0.readableBytesView) },
            redirectURI: row.6,
            scopes: row.7,
            connectionParameters: try JSONText.decode([String: String].self, row.8, column: "oauth_states.connection_parameters"),
            endUserID: row.9,
            tags: row.10,
            returnTo: row.11,
            codeVerifier: verifier,
            expiresAt: row.13,
            createdAt: row.14
        )
    }
}

extension OperatorTransaction {
    /// Which tenant an authorization request belongs to: the callback learns it from the state alone.
    public func oauthStateTenant(stateHash: [UInt8]) async throws -> TenantID? {
        try await query("SELECT tenant_id FROM oauth_states WHERE state_hash = \(ByteBuffer(bytes: stateHash))")
            .decode(UUID.self).collect().first.map(TenantID.init)
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
