import Foundation
import SwitchyardCore

/// Where a sealed secret lives: its tenant, table, row and field (REQUIREMENTS EN-2).
///
/// Used as AES-GCM associated data, so a ciphertext copied to another tenant, row or field, or
/// read as another format version, fails to decrypt instead of yielding someone else's secret.
public struct SecretBinding: Sendable, Hashable {
    public let tenant: TenantID
    public let table: String
    public let row: UUID
    public let field: String

    public init(tenant: TenantID, table: String, row: UUID, field: String) {
        self.tenant = tenant
        self.table = table
        self.row = row
        self.field = field
    }

    func associatedData(formatVersion: UInt8) -> [UInt8] {
        var bytes = Array("switchyard-secret".utf8)
        bytes.append(formatVersion)
        bytes.appendLengthPrefixed(Array(tenant.description.utf8))
        bytes.appendLengthPrefixed(Array(table.utf8))
        bytes.appendLengthPrefixed(Array(row.lowercasedString.utf8))
        bytes.appendLengthPrefixed(Array(field.utf8))
        return bytes
    }
}
