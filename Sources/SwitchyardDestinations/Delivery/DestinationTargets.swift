import Crypto
import Foundation
import HTTPTypes
import Logging
import SwitchyardCore
import SwitchyardPostgres

/// The executor's short-lived copies of destinations, opened and prepared for sending: at thousands of deliveries a
/// second to a few destinations, reading, unsealing and decoding them for every attempt would cost more than the
/// delivery. A change through the API reaches deliveries within `timeToLive`; a rotated-out secret still stops
/// signing exactly when its grace period ends (checked per attempt). A destination in use is read again in the
/// background in the last fifth of that time, so that its deliveries do not wait for the read.
public final class DestinationTargets: Sendable {
    struct Key: Hashable, Sendable {
        let tenantID: TenantID
        let id: UUID
    }

    /// A destination as it was read, or that it no longer exists.
    struct Entry: Sendable {
        let target: DeliveryTarget?
    }

    let database: Database
    private let entries: ExpiringCache<Key, Entry>

    public init(database: Database, timeToLive: Duration = .seconds(2), capacity: Int = 10_000) {
        self.database = database
        self.entries = ExpiringCache(timeToLive: timeToLive, refreshAhead: timeToLive / 5, capacity: capacity)
    }

    /// The destination, or nil when it no longer exists.
    public func target(_ id: UUID, tenant: TenantID, logger: Logger) async throws -> DeliveryTarget? {
        try await entries.value(for: Key(tenantID: tenant, id: id)) { [database] in
            let row = try await database.withTenant(tenant, logger: logger) { try await $0.destinationTarget(id) }
            return Entry(target: row.map(DeliveryTarget.init))
        }
        .target
    }

    /// Forgets a destination whose state this process just changed, so the next delivery reads it again.
    public func forget(_ id: UUID, tenant: TenantID) {
        entries.remove(Key(tenantID: tenant, id: id))
    }
}

/// A destination as deliveries send to it: its row, with what every attempt would otherwise rebuild made once per
/// read (the signing keys decoded from their `whsec_` text, the fixed headers, the outbound client's key).
public struct DeliveryTarget: Sendable {
    /// A signing key, decoded and keyed, with the stored secret it came from (and the end of its grace period).
    struct SigningKey: Sendable {
        let keyed: HMAC<SHA256>
        let stored: DestinationSigningSecret
    }

    public let row: DestinationTarget
    /// Newest first; a secret that does not decode signs nothing (as before it was cached).
    let keys: [SigningKey]
    /// The destination's own headers in name order, then `Content-Type` and `User-Agent`.
    let headers: HTTPFields
    /// The outbound client's rate limiter and circuit breaker key.
    let outboundKey: String

    public init(_ row: DestinationTarget) {
        self.row = row
        keys = row.secrets.compactMap { secret in
            StandardWebhookSecret(secret.value).map { SigningKey(keyed: StandardWebhookSignature.keyed($0), stored: secret) }
        }
        var headers = HTTPFields()
        for (name, value) in row.headers.sorted(by: { $0.key < $1.key }) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        headers[.contentType] = "application/json"
        headers[.userAgent] = "Switchyard-Webhooks/1"
        self.headers = headers
        outboundKey = "destination:\(row.id.lowercasedString)"
    }

    public var id: UUID { row.id }
    public var tenantID: TenantID { row.tenantID }

    /// The keys to sign with at `now`: each secret whose grace period has not ended.
    func signingKeys(at now: Date) -> [HMAC<SHA256>] {
        keys.filter { $0.stored.isUsable(at: now) }.map(\.keyed)
    }
}
