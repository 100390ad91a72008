import Foundation
import SwitchyardCore
import SwitchyardVault

/// A stored secret that does not open: its bytes were altered, or copied from another row, tenant or field (the
/// associated data no longer matches), or its data key is gone. Retrying cannot help; the owner has to enter the
/// secret again or reconnect. Not an outage: the API answers 409 `secret-unreadable` naming the record, the log
/// names tenant, table, field and row, and `Database.withTenant` records an audit event and a metric.
public struct SecretUnreadable: Error, SwitchyardErrorConvertible, CustomStringConvertible {
    public let tenant: TenantID
    public let field: SealedField
    public let row: UUID
    public let cause: VaultError

    public var switchyardError: SwitchyardError {
        SwitchyardError(
            .conflict,
            code: "secret-unreadable",
            detail: "The stored \(field.ownerWords) \(row.lowercasedString) cannot be opened "
                + "(it was altered or copied from another record). \(field.remedy)"
        )
    }

    public var description: String { "\(field.table).\(field.column) of row \(row.lowercasedString): \(cause)" }

    /// Whether `error` means the bytes or their binding are wrong, rather than that the keyring lacks a version
    /// (an operator's configuration problem, reported as such).
    static func isTampering(_ error: VaultError) -> Bool {
        switch error {
        case .authenticationFailed, .malformedCiphertext, .dataKeyNotFound: true
        case .unknownKEKVersion, .keyring: false
        }
    }
}

extension SealedField {
    /// What the secret belongs to, as the API names it.
    var ownerWords: String {
        switch self {
        case .integrationCredential: "credential of integration"
        case .oauthAppClientSecret: "client secret of OAuth app"
        case .webhookSourceSecret: "webhook source secret"
        case .oauthStateCodeVerifier: "PKCE verifier of authorization request"
        default: "secret of \(table) row"
        }
    }

    var remedy: String {
        switch self {
        case .integrationCredential: "Reconnect the integration, or enter its credentials again with PATCH."
        case .oauthAppClientSecret: "Enter the OAuth app's client secret again."
        case .webhookSourceSecret: "Rotate the webhook source's secret."
        case .oauthStateCodeVerifier: "Start the connection again."
        default: "Start the flow again."
        }
    }
}
