import Foundation
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardProviders

/// What a connect session and a direct authorization request may both say about the connection to make.
struct ConnectionOptions: Decodable, Sendable {
    static let accepted: Set<String> = ["integration_id", "end_user_id", "tags", "scopes", "connection_parameters", "return_to"]
    let integrationID: UUID?
    let endUserID: String?
    let tags: [String]?
    let scopes: [String]?
    let connectionParameters: [String: String]?
    let returnTo: String?

    enum CodingKeys: String, CodingKey {
        case tags, scopes
        case integrationID = "integration_id"
        case endUserID = "end_user_id"
        case connectionParameters = "connection_parameters"
        case returnTo = "return_to"
    }

    func validate() throws(SwitchyardError) {
        if let endUserID { try IntegrationRules.validate(endUserID: endUserID) }
        if let tags { try IntegrationRules.validate(tags: tags) }
        try AuthorizationRules.validate(scopes: scopes)
        if let returnTo, returnTo.utf8.count > 2000 { throw .validation("return_to must be at most 2000 characters.") }
    }
}

/// `POST /v1/connect-sessions`.
struct ConnectSessionCreateBody: StrictJSONBody {
    static let fields: Set<String>? = ConnectionOptions.accepted.union(["allowed_providers"])
    let allowedProviders: [String]?
    let options: ConnectionOptions

    enum CodingKeys: String, CodingKey {
        case allowedProviders = "allowed_providers"
    }

    init(from decoder: any Decoder) throws {
        allowedProviders = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent([String].self, forKey: .allowedProviders)
        options = try ConnectionOptions(from: decoder)
    }

    func validate() throws(SwitchyardError) {
        if let allowedProviders {
            guard (1...50).contains(allowedProviders.count), Set(allowedProviders).count == allowedProviders.count else {
                throw .validation("allowed_providers must list 1 to 50 different provider ids.")
            }
        } else if options.integrationID == nil {
            throw .validation("Send allowed_providers (the providers the end user may connect), or integration_id to re-authorize one.")
        }
        try options.validate()
        if let parameters = options.connectionParameters, !parameters.isEmpty, (allowedProviders?.count ?? 1) != 1 {
            throw .validation("connection_parameters can only be preset when exactly one provider is allowed.")
        }
    }
}

/// A connect session as the API shows it; `token` and `url` only in the response that created it.
struct ConnectSessionResponse: Encodable, Sendable {
    let record: ConnectSessionRecord
    let token: String
    let url: String

    enum CodingKeys: String, CodingKey {
        case id, token, url, tags, scopes
        case allowedProviders = "allowed_providers"
        case integrationID = "integration_id"
        case endUserID = "end_user_id"
        case connectionParameters = "connection_parameters"
        case returnTo = "return_to"
        case expiresAt = "expires_at"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id.lowercasedString, forKey: .id)
        try container.encode(token, forKey: .token)
        try container.encode(url, forKey: .url)
        try container.encode(record.allowedProviders, forKey: .allowedProviders)
        try container.encode(record.integrationID?.lowercasedString, forKey: .integrationID)
        try container.encode(record.endUserID, forKey: .endUserID)
        try container.encode(record.tags, forKey: .tags)
        try container.encode(record.extraScopes, forKey: .scopes)
        try container.encode(record.connectionParameters, forKey: .connectionParameters)
        try container.encode(record.returnTo, forKey: .returnTo)
        try container.encode(record.expiresAt, forKey: .expiresAt)
        try container.encode(record.createdAt, forKey: .createdAt)
    }
}

/// `POST /v1/integrations/authorize-url`: the same protections as a connect session, for apps with their own UI.
struct AuthorizeURLBody: StrictJSONBody {
    static let fields: Set<String>? = ConnectionOptions.accepted.union(["provider"])
    let provider: String
    let options: ConnectionOptions

    enum CodingKeys: String, CodingKey {
        case provider
    }

    init(from decoder: any Decoder) throws {
        provider = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .provider)
        options = try ConnectionOptions(from: decoder)
    }

    func validate() throws(SwitchyardError) {
        try options.validate()
    }
}

struct AuthorizeURLResponse: Encodable, Sendable {
    let url: String
    let expiresAt: Date
    let redirectURI: String

    enum CodingKeys: String, CodingKey {
        case url
        case expiresAt = "expires_at"
        case redirectURI = "redirect_uri"
    }
}

enum AuthorizationRules {
    static func validate(scopes: [String]?) throws(SwitchyardError) {
        guard let scopes else { return }
        guard scopes.count <= 50 else { throw .validation("scopes may list at most 50 scopes.") }
        for (index, scope) in scopes.enumerated() where !HTTPToken.isScopeToken(scope) {
            throw .validation("scopes[\(index)] must be 1 to 256 printable characters without spaces, '\"' or '\\'.")
        }
    }

    /// A `return_to` is accepted only on one of the tenant's allow-listed origins (REQUIREMENTS OA-3).
    static func checkReturnTo(_ returnTo: String?, allowed origins: [String]) throws(SwitchyardError) {
        guard let returnTo else { return }
        guard let origin = WebOrigin(ofURL: returnTo) else {
            throw .validation("return_to must be an absolute https URL (http only for localhost) without a fragment.")
        }
        guard origins.contains(origin.description) else {
            throw .validation(
                "return_to's origin \(origin) is not among the tenant's connect_return_origins; the operator sets them with PATCH /v1/tenants/{id}."
            )
        }
    }
}
