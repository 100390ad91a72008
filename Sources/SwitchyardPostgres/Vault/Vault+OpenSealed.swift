import Foundation
import SwitchyardCore
import SwitchyardVault

extension Vault {
    /// Opens the value of `field` in row `row` of `tenant`; `wrappedKey` reads the data key it names when the cache
    /// lacks it. Bytes that do not open (altered, or sealed for any other place) throw `SecretUnreadable`.
    func open(
        _ sealed: some Collection<UInt8>,
        field: SealedField,
        row: UUID,
        tenant: TenantID,
        wrappedKey: (UUID) async throws -> WrappedDataKey?
    ) async throws -> [UInt8] {
        do {
            let secret = try SealedSecret(bytes: sealed)
            let key = try await dataKey(secret.dataKeyID, tenant: tenant) { try await wrappedKey(secret.dataKeyID) }
            return try key.open(secret, for: SecretBinding(tenant: tenant, table: field.table, row: row, field: field.column))
        } catch let error as VaultError where SecretUnreadable.isTampering(error) {
            throw SecretUnreadable(tenant: tenant, field: field, row: row, cause: error)
        }
    }
}
