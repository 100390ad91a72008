import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres
import Synchronization

/// The executor's short-lived copies of destinations, opened (headers and secrets unsealed): at thousands of
/// deliveries a second to a few destinations, reading and opening them for every attempt would cost more than the
/// delivery. A change through the API reaches deliveries within `timeToLive`; a rotated-out secret still stops
/// signing exactly when its grace period ends (checked per attempt).
public final class DestinationTargets: Sendable {
    struct Key: Hashable {
        let tenantID: TenantID
        let id: UUID
    }

    struct Entry {
        let target: DestinationTarget?
        let loadedAt: ContinuousClock.Instant
    }

    let database: Database
    let timeToLive: Duration
    let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])

    public init(database: Database, timeToLive: Duration = .seconds(2), capacity: Int = 10_000) {
        self.database = database
        self.timeToLive = timeToLive
        self.capacity = capacity
    }

    /// The destination, or nil when it no longer exists.
    public func target(_ id: UUID, tenant: TenantID, logger: Logger) async throws -> DestinationTarget? {
        let key = Key(tenantID: tenant, id: id)
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[key] }), now - entry.loadedAt < timeToLive {
            return entry.target
        }
        let target = try await database.withTenant(tenant, logger: logger) { try await $0.destinationTarget(id) }
        entries.withLock { entries in
            // Bounded: past the capacity the whole table starts over, which costs one load per destination.
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(target: target, loadedAt: now)
        }
        return target
    }

    /// Forgets a destination whose state this process just changed, so the next delivery reads it again.
    public func forget(_ id: UUID, tenant: TenantID) {
        _ = entries.withLock { $0.removeValue(forKey: Key(tenantID: tenant, id: id)) }
    }
}
