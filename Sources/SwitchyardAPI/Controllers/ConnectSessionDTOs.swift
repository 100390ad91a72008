import Foundation
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardProviders

/// What a connect session and a direct authorization request may both say about the connection to make.
struct ConnectionOptions: Sendable {
    let integrationID: UUID?
    let endUserID: String?
    let tags: [String]?
    let scopes: [String]?
    let connectionParameters: [String: String]?
    let returnTo: String?

    init(
        integrationID: String?,
        endUserID: String?,
        tags: [String]?,
        scopes: [String]?,
        connectionParameters: [String: String]?,
        returnTo: String?
    ) throws(SwitchyardError) {
        self.integrationID = try UUIDField.parse(ifPresent: integrationID, field: "integration_id")
        self.endUserID = endUserID
        self.tags = tags
        self.scopes = scopes
        self.connectionParameters = connectionParameters
        self.returnTo = returnTo
        if let endUserID { try IntegrationRules.validate(endUserID: endUserID) }
        if let tags { try IntegrationRules.validate(tags: tags) }
        try AuthorizationRules.validate(scopes: scopes)
        if let returnTo, returnTo.utf8.count > 2000 { throw .validation("return_to must be at most 2000 characters.") }
    }
}

/// The options a connect session and a direct authorization request share (the two schemas name them alike).
protocol ConnectionOptionsBody {
    var integrationId: String? { get }
    var endUserId: String? { get }
    var tags: [String]? { get }
    var scopes: [String]? { get }
    var returnTo: String? { get }
    var presetConnectionParameters: [String: String]? { get }
}

extension ConnectionOptionsBody {
    /// The options, checked.
    var options: ConnectionOptions {
        get throws(SwitchyardError) {
            try ConnectionOptions(
                integrationID: integrationId,
                endUserID: endUserId,
                tags: tags,
                scopes: scopes,
                connectionParameters: presetConnectionParameters,
                returnTo: returnTo
            )
        }
    }
}

/// `POST /v1/connect-sessions`.
extension Components.Schemas.ConnectSessionCreate: StrictJSONBody, ConnectionOptionsBody {
    var presetConnectionParameters: [String: String]? { connectionParameters?.additionalProperties }

    func validate() throws(SwitchyardError) {
        let options = try options
        if let allowedProviders {
            guard (1...50).contains(allowedProviders.count), Set(allowedProviders).count == allowedProviders.count else {
                throw .validation("allowed_providers must list 1 to 50 different provider ids.")
            }
        } else if options.integrationID == nil {
            throw .validation("Send allowed_providers (the providers the end user may connect), or integration_id to re-authorize one.")
        }
        if let parameters = options.connectionParameters, !parameters.isEmpty, (allowedProviders?.count ?? 1) != 1 {
            throw .validation("connection_parameters can only be preset when exactly one provider is allowed.")
        }
    }
}

extension Components.Schemas.ConnectSession {
    /// A connect session as the API shows it; `token` and `url` only in the response that created it.
    init(_ record: ConnectSessionRecord, token: String, url: String) {
        self.init(
            id: record.id.lowercasedString,
            token: token,
            url: url,
            allowedProviders: record.allowedProviders,
            integrationId: record.integrationID?.lowercasedString,
            endUserId: record.endUserID,
            tags: record.tags,
            scopes: record.extraScopes,
            connectionParameters: .init(additionalProperties: record.connectionParameters),
            returnTo: record.returnTo,
            expiresAt: record.expiresAt,
            createdAt: record.createdAt
        )
    }
}

/// `POST /v1/integrations/authorize-url`: the same protections as a connect session, for apps with their own UI.
extension Components.Schemas.AuthorizeURLRequest: StrictJSONBody, ConnectionOptionsBody {
    var presetConnectionParameters: [String: String]? { connectionParameters?.additionalProperties }

    func validate() throws(SwitchyardError) {
        _ = try options
    }
}

extension Components.Schemas.DisconnectResult.RevocationPayload {
    init(_ result: TokenRevoker.Result) {
        switch result {
        case .revoked: self = .revoked
        case .unsupported: self = .unsupported
        case .nothingToRevoke: self = .nothingToRevoke
        case .failed: self = .failed
        }
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
