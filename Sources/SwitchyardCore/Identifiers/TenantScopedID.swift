import Foundation

/// A row's key within its tenant: the tenant and the row's id, as the tenant-scoped tables' primary keys hold them (an
/// integration; an API key's rate-limit bucket).
public struct TenantScopedID: Hashable, Sendable {
    public let tenant: UUID
    public let id: UUID

    public init(tenant: UUID, id: UUID) {
        self.tenant = tenant
        self.id = id
    }
}
