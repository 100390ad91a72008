/// A column that holds sealed secrets, with the column naming the data key that sealed each value.
///
/// Every such column is listed in `all`, so re-sealing after a data-key rotation reaches all of them.
/// A foreign key from `dataKeyColumn` to `tenant_data_keys` keeps a key from being deleted while a
/// secret still needs it.
public struct SealedField: Sendable, Hashable {
    public let table: String
    /// The row's id column (with `tenant_id`, the row's key).
    public let rowIDColumn: String
    /// The bytea column holding the sealed secret; also the field name bound into the ciphertext.
    public let column: String
    public let dataKeyColumn: String

    /// Every sealed column of the schema. Add a new one here when a migration adds one.
    static let all: [SealedField] = [
        .integrationCredential, .oauthAppClientSecret, .oauthStateCodeVerifier, .webhookSourceSecret, .destinationSecret, .destinationHeaders,
    ]

    /// `oauth_apps.client_secret`: a tenant's own OAuth client secret.
    public static let oauthAppClientSecret = SealedField(table: "oauth_apps", rowIDColumn: "id", column: "client_secret", dataKeyColumn: "dek_id")

    /// `integration_credentials.secret`: an integration's credential document.
    public static let integrationCredential = SealedField(
        table: "integration_credentials",
        rowIDColumn: "integration_id",
        column: "secret",
        dataKeyColumn: "dek_id"
    )

    /// `oauth_states.code_verifier`: the PKCE verifier of an authorization request in flight.
    public static let oauthStateCodeVerifier = SealedField(table: "oauth_states", rowIDColumn: "id", column: "code_verifier", dataKeyColumn: "dek_id")

    /// `webhook_source_secrets.secret`: a secret webhook deliveries are verified with.
    public static let webhookSourceSecret = SealedField(table: "webhook_source_secrets", rowIDColumn: "id", column: "secret", dataKeyColumn: "dek_id")

    /// `destination_secrets.secret`: a `whsec_` secret deliveries to a destination are signed with.
    public static let destinationSecret = SealedField(table: "destination_secrets", rowIDColumn: "id", column: "secret", dataKeyColumn: "dek_id")

    /// `destinations.headers`: a destination's custom request headers, as one JSON object.
    public static let destinationHeaders = SealedField(table: "destinations", rowIDColumn: "id", column: "headers", dataKeyColumn: "headers_dek_id")
}
