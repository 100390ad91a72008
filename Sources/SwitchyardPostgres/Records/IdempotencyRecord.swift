import Foundation
import Logging
import PostgresNIO
import SwitchyardCore

/// A response remembered for an `Idempotency-Key`, replayed byte for byte on a retry.
public struct StoredResponse: Sendable, Equatable, Codable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// What claiming an idempotency key decided (REQUIREMENTS API-6).
public enum IdempotencyClaim: Sendable, Equatable {
    /// This request owns the key: run it, then `completeIdempotentRequest` or `releaseIdempotencyKey`.
    case proceed
    /// The same request finished before: send its response again.
    case replay(StoredResponse)
    /// The same key is being used by a request that has not finished (409).
    case inProgress
    /// The key was used with a different request (422).
    case mismatch
}

/// How long a key is remembered, and after how long an unfinished claim (a crashed request) may be taken over.
public enum IdempotencyPolicy {
    public static let retention: Duration = .seconds(24 * 3600)
    public static let abandonedAfter: Duration = .seconds(60)
}

/// Where a key lives: a tenant's keys in `idempotency_keys` (keyed by tenant), the operator's own in
/// `platform_idempotency_keys` (migration 0032).
private struct IdempotencyScope {
    let tenant: UUID?
    let key: String

    var table: String { tenant == nil ? "platform_idempotency_keys" : "idempotency_keys" }

    /// `SELECT ... FROM` or `DELETE FROM` (`head`, naming the table) followed by `tail`, for the key's row.
    func statement(_ head: String, _ tail: String = "") -> PostgresQuery {
        if let tenant {
            "\(unescaped: head) WHERE tenant_id = \(tenant) AND idempotency_key = \(key) \(unescaped: tail)"
        } else {
            "\(unescaped: head) WHERE idempotency_key = \(key) \(unescaped: tail)"
        }
    }
}

extension Database {
    /// Claims `key` for a request whose method, path and body hash to `requestHash`.
    /// Commits before returning, so concurrent requests with the same key see the claim.
    public func claimIdempotencyKey(
        _ key: String,
        requestHash: [UInt8],
        tenant: TenantID?,
        logger: Logger
    ) async throws -> IdempotencyClaim {
        try await withIdempotencyScope(key, tenant: tenant, logger: logger) { connection, scope in
            let retention = "\(IdempotencyPolicy.retention.components.seconds) seconds"
            let abandoned = "\(IdempotencyPolicy.abandonedAfter.components.seconds) seconds"
            let hash = ByteBuffer(bytes: requestHash)
            // Taken over when it expired, or when its request never finished (a crash).
            let takeOver = """
                DO UPDATE SET request_hash = EXCLUDED.request_hash, state = 'in_progress', response_status = NULL,
                              response_headers = NULL, response_body = NULL, locked_at = now(), created_at = now(),
                              expires_at = EXCLUDED.expires_at
                 WHERE \(scope.table).expires_at < now()
                    OR (\(scope.table).state = 'in_progress' AND \(scope.table).locked_at < now() - interval '\(abandoned)')
                RETURNING true
                """
            let insert: PostgresQuery =
                if let tenant = scope.tenant {
                    """
                    INSERT INTO idempotency_keys (tenant_id, idempotency_key, request_hash, state, expires_at)
                    VALUES (\(tenant), \(key), \(hash), 'in_progress', now() + \(retention)::interval)
                    ON CONFLICT (tenant_id, idempotency_key) \(unescaped: takeOver)
                    """
                } else {
                    """
                    INSERT INTO platform_idempotency_keys (idempotency_key, request_hash, state, expires_at)
                    VALUES (\(key), \(hash), 'in_progress', now() + \(retention)::interval)
                    ON CONFLICT (idempotency_key) \(unescaped: takeOver)
                    """
                }
            let claimed = try await connection.guardedQuery(insert, logger: logger).decode(Bool.self).collect()
            if !claimed.isEmpty { return .proceed }

            let rows = try await connection.guardedQuery(
                scope.statement(
                    "SELECT request_hash, state, response_status, response_headers::text, response_body FROM \(scope.table)"
                ),
                logger: logger
            ).collect()
            guard let first = rows.first else { return .inProgress }  // deleted between the statements
            let row = NamedRow(first, table: scope.table)
            let storedHash: ByteBuffer = try row("request_hash")
            guard ConstantTime.bytesEqual(Array(storedHash.readableBytesView), requestHash) else { return .mismatch }
            guard try row("state", as: String.self) == "completed", let status = try row("response_status", as: Int?.self) else { return .inProgress }
            let headers: [String: String] = try row.jsonIfPresent("response_headers") ?? [:]
            let body: ByteBuffer? = try row("response_body")
            return .replay(StoredResponse(status: status, headers: headers, body: body.map { Array($0.readableBytesView) } ?? []))
        }
    }

    /// Stores the response of a request that owned `key`.
    public func completeIdempotentRequest(_ key: String, tenant: TenantID?, response: StoredResponse, logger: Logger) async throws {
        let headers = String(decoding: try JSONEncoder().encode(response.headers), as: UTF8.self)
        try await withIdempotencyScope(key, tenant: tenant, logger: logger) { connection, scope in
            let body = ByteBuffer(bytes: response.body)
            let update: PostgresQuery =
                if let tenant = scope.tenant {
                    """
                    UPDATE idempotency_keys
                       SET state = 'completed', response_status = \(response.status), response_headers = \(headers)::jsonb, response_body = \(body)
                     WHERE tenant_id = \(tenant) AND idempotency_key = \(key)
                    """
                } else {
                    """
                    UPDATE platform_idempotency_keys
                       SET state = 'completed', response_status = \(response.status), response_headers = \(headers)::jsonb, response_body = \(body)
                     WHERE idempotency_key = \(key)
                    """
                }
            _ = try await connection.guardedQuery(update, logger: logger)
        }
    }

    /// Forgets a claim whose request failed in a way worth retrying (a 5xx), so a retry runs again.
    public func releaseIdempotencyKey(_ key: String, tenant: TenantID?, logger: Logger) async throws {
        try await withIdempotencyScope(key, tenant: tenant, logger: logger) { connection, scope in
            _ = try await connection.guardedQuery(scope.statement("DELETE FROM \(scope.table)", "AND state = 'in_progress'"), logger: logger)
        }
    }

    private func withIdempotencyScope<Result: Sendable>(
        _ key: String,
        tenant: TenantID?,
        logger: Logger,
        _ body: (PostgresConnection, IdempotencyScope) async throws -> Result
    ) async throws -> Result {
        if let tenant {
            try await withTenant(tenant, logger: logger) { try await body($0.connection, IdempotencyScope(tenant: tenant.rawValue, key: key)) }
        } else {
            try await withOperator(logger: logger) { try await body($0.connection, IdempotencyScope(tenant: nil, key: key)) }
        }
    }
}

extension QueueTransaction {
    /// Deletes up to `limit` expired Idempotency-Keys, any tenant's and the operator's; returns how many.
    public func pruneExpiredIdempotencyKeys(limit: Int = 5000) async throws -> Int {
        let tenants = try await query(
            """
            DELETE FROM idempotency_keys WHERE (tenant_id, idempotency_key) IN (
                SELECT tenant_id, idempotency_key FROM idempotency_keys WHERE expires_at < now() LIMIT \(limit))
            RETURNING 1
            """
        ).collect().count
        let platform = try await query(
            """
            DELETE FROM platform_idempotency_keys WHERE idempotency_key IN (
                SELECT idempotency_key FROM platform_idempotency_keys WHERE expires_at < now() LIMIT \(limit))
            RETURNING 1
            """
        ).collect().count
        return tenants + platform
    }
}
