import Foundation
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardProviders

// The provider model (`SwitchyardProviders`) keeps its own JSON form, which the database stores; the API speaks the
// document's types, mapped here field by field in both directions.

extension Components.Schemas.Provider {
    /// A provider as the API shows it: its definition plus whether it is the tenant's own.
    init(_ provider: SwitchyardProviders.ProviderDefinition, custom: Bool) {
        self.init(value1: provider.contract, value2: .init(custom: custom))
    }
}

extension Components.Schemas.ProviderList {
    /// Built-in providers first, then the tenant's own; not paginated.
    init(_ providers: [SwitchyardProviders.ProviderDefinition], custom: Set<String>) {
        self.init(data: providers.map { Components.Schemas.Provider($0, custom: custom.contains($0.id)) }, nextCursor: nil)
    }
}

/// `PUT /v1/providers/{provider_id}`: a custom provider definition, the provider's own JSON shape.
extension Components.Schemas.ProviderDefinitionBody: StrictJSONBody {
    /// The document closes the body with `unevaluatedProperties: false`, which the generated type does not check
    /// (it decodes `ProviderDefinition`, which stays open so that `Provider` can extend it): the top-level fields are
    /// named here. The nested objects are closed in the document and refuse unknown fields themselves.
    static let fields: Set<String>? = [
        "id", "display_name", "auth_type", "oauth2", "credentials", "api_base_url", "required_headers",
        "connection_parameters", "rate_limit_headers", "webhook_signature", "webhook_event_id_header", "documentation_url",
    ]

    func validate() throws(SwitchyardError) {
        _ = try definition
    }

    /// The definition as the provider model has it; `auth_type` says which of `oauth2` and `credentials` it needs.
    var definition: SwitchyardProviders.ProviderDefinition {
        get throws(SwitchyardError) { try SwitchyardProviders.ProviderDefinition(contract: value1) }
    }
}

extension SwitchyardProviders.ProviderDefinition {
    fileprivate var contract: Components.Schemas.ProviderDefinition {
        Components.Schemas.ProviderDefinition(
            id: id,
            displayName: displayName,
            authType: authType.contract,
            oauth2: authentication.oauth2?.contract,
            credentials: authentication.credentials?.contract,
            apiBaseUrl: apiBaseURLTemplate.rawValue,
            requiredHeaders: .init(additionalProperties: requiredHeaders),
            connectionParameters: connectionParameters.map(\.contract),
            rateLimitHeaders: rateLimitHeaders?.contract,
            webhookSignature: .init(value1: webhookSignature.contract),
            webhookEventIdHeader: webhookEventIDHeader,
            documentationUrl: documentationURL
        )
    }

    /// Throws as decoding the model's own JSON form would when the settings `auth_type` needs are missing.
    fileprivate init(contract: Components.Schemas.ProviderDefinition) throws(SwitchyardError) {
        let authentication: ProviderAuthentication
        switch contract.authType {
        case .oauth2:
            guard let settings = contract.oauth2 else { throw .validation("The field 'oauth2' is required.") }
            authentication = .oauth2(OAuth2Settings(contract: settings))
        case .apiKey:
            guard let scheme = contract.credentials else { throw .validation("The field 'credentials' is required.") }
            authentication = .apiKey(CredentialScheme(contract: scheme))
        case .basic:
            guard let scheme = contract.credentials else { throw .validation("The field 'credentials' is required.") }
            authentication = .basic(CredentialScheme(contract: scheme))
        }
        self.init(
            id: contract.id,
            displayName: contract.displayName,
            authentication: authentication,
            apiBaseURL: URLTemplate(contract.apiBaseUrl),
            requiredHeaders: contract.requiredHeaders?.additionalProperties ?? [:],
            connectionParameters: contract.connectionParameters?.map(ConnectionParameter.init(contract:)) ?? [],
            rateLimitHeaders: contract.rateLimitHeaders.map(RateLimitHeaders.init(contract:)),
            webhookSignature: contract.webhookSignature.map { WebhookSignatureScheme(contract: $0.value1) } ?? .none,
            webhookEventIDHeader: contract.webhookEventIdHeader,
            documentationURL: contract.documentationUrl
        )
    }
}

extension AuthType {
    fileprivate var contract: Components.Schemas.AuthType {
        switch self {
        case .oauth2: .oauth2
        case .apiKey: .apiKey
        case .basic: .basic
        }
    }
}

extension OAuth2Settings {
    fileprivate var contract: Components.Schemas.OAuth2Settings {
        Components.Schemas.OAuth2Settings(
            authorizeUrl: authorizeURL.rawValue,
            tokenUrl: tokenURL.rawValue,
            revocation: revocation?.contract,
            defaultScopes: defaultScopes,
            scopeSeparator: scopeSeparator.contract,
            pkce: pkce.contract,
            tokenEndpointAuthMethod: tokenEndpointAuthMethod.contract,
            tokenRequestEncoding: tokenRequestEncoding.contract,
            extraAuthorizeParameters: .init(additionalProperties: extraAuthorizeParameters),
            refreshTokensRotate: refreshTokensRotate,
            issuer: issuer
        )
    }

    fileprivate init(contract: Components.Schemas.OAuth2Settings) {
        self.init(
            authorizeURL: URLTemplate(contract.authorizeUrl),
            tokenURL: URLTemplate(contract.tokenUrl),
            revocation: contract.revocation.map(TokenRevocation.init(contract:)),
            defaultScopes: contract.defaultScopes,
            scopeSeparator: ScopeSeparator(contract: contract.scopeSeparator),
            pkce: PKCESupport(contract: contract.pkce),
            tokenEndpointAuthMethod: TokenEndpointAuthMethod(contract: contract.tokenEndpointAuthMethod),
            tokenRequestEncoding: TokenRequestEncoding(contract: contract.tokenRequestEncoding),
            extraAuthorizeParameters: contract.extraAuthorizeParameters.additionalProperties,
            refreshTokensRotate: contract.refreshTokensRotate,
            issuer: contract.issuer
        )
    }
}

extension TokenRevocation {
    fileprivate var contract: Components.Schemas.TokenRevocation {
        let style: Components.Schemas.TokenRevocation.StylePayload =
            switch self.style {
            case .rfc7009: .rfc7009
            case .bearer: .bearer
            }
        return Components.Schemas.TokenRevocation(url: url.rawValue, style: style)
    }

    fileprivate init(contract: Components.Schemas.TokenRevocation) {
        let style: Style =
            switch contract.style {
            case .rfc7009: .rfc7009
            case .bearer: .bearer
            }
        self.init(url: URLTemplate(contract.url), style: style)
    }
}

extension ScopeSeparator {
    fileprivate var contract: Components.Schemas.OAuth2Settings.ScopeSeparatorPayload {
        switch self {
        case .space: .space
        case .comma: .comma
        }
    }

    fileprivate init(contract: Components.Schemas.OAuth2Settings.ScopeSeparatorPayload) {
        switch contract {
        case .space: self = .space
        case .comma: self = .comma
        }
    }
}

extension PKCESupport {
    fileprivate var contract: Components.Schemas.OAuth2Settings.PkcePayload {
        switch self {
        case .required: .required
        case .supported: .supported
        case .unsupported: .none
        }
    }

    fileprivate init(contract: Components.Schemas.OAuth2Settings.PkcePayload) {
        switch contract {
        case .required: self = .required
        case .supported: self = .supported
        case .none: self = .unsupported
        }
    }
}

extension TokenEndpointAuthMethod {
    fileprivate var contract: Components.Schemas.OAuth2Settings.TokenEndpointAuthMethodPayload {
        switch self {
        case .clientSecretBasic: .clientSecretBasic
        case .clientSecretPost: .clientSecretPost
        }
    }

    fileprivate init(contract: Components.Schemas.OAuth2Settings.TokenEndpointAuthMethodPayload) {
        switch contract {
        case .clientSecretBasic: self = .clientSecretBasic
        case .clientSecretPost: self = .clientSecretPost
        }
    }
}

extension TokenRequestEncoding {
    fileprivate var contract: Components.Schemas.OAuth2Settings.TokenRequestEncodingPayload {
        switch self {
        case .form: .form
        case .json: .json
        }
    }

    fileprivate init(contract: Components.Schemas.OAuth2Settings.TokenRequestEncodingPayload) {
        switch contract {
        case .form: self = .form
        case .json: self = .json
        }
    }
}

extension CredentialScheme {
    fileprivate var contract: Components.Schemas.CredentialScheme {
        Components.Schemas.CredentialScheme(
            fields: fields.map { Components.Schemas.CredentialField(name: $0.name, description: $0.description, secret: $0.secret) },
            injection: injection.contract
        )
    }

    fileprivate init(contract: Components.Schemas.CredentialScheme) {
        self.init(
            fields: contract.fields.map { CredentialField(name: $0.name, description: $0.description, secret: $0.secret) },
            injection: CredentialInjection(contract: contract.injection)
        )
    }
}

extension CredentialInjection {
    fileprivate var contract: Components.Schemas.CredentialInjection {
        switch self {
        case .header(let name, let value): .case1(.init(_type: .header, name: name, value: value))
        case .basic(let username, let password): .case2(.init(_type: .basic, username: username, password: password))
        }
    }

    fileprivate init(contract: Components.Schemas.CredentialInjection) {
        switch contract {
        case .case1(let header): self = .header(name: header.name, value: header.value)
        case .case2(let basic): self = .basic(username: basic.username, password: basic.password)
        }
    }
}

extension ConnectionParameter {
    fileprivate var contract: Components.Schemas.ConnectionParameterDefinition {
        Components.Schemas.ConnectionParameterDefinition(
            name: name,
            description: description,
            required: required,
            pattern: pattern,
            source: source.contract,
            example: example
        )
    }

    fileprivate init(contract: Components.Schemas.ConnectionParameterDefinition) {
        self.init(
            name: contract.name,
            description: contract.description,
            required: contract.required,
            pattern: contract.pattern,
            source: ParameterSource(contract: contract.source),
            example: contract.example
        )
    }
}

extension ParameterSource {
    fileprivate var contract: Components.Schemas.ParameterSource {
        switch self {
        case .user: .case1(.init(_type: .user))
        case .tokenResponse(let field, let hostSuffix): .case2(.init(_type: .tokenResponse, field: field, hostSuffix: hostSuffix))
        case .resourceLookup(let url, let field): .case3(.init(_type: .resourceLookup, url: url, field: field))
        }
    }

    fileprivate init(contract: Components.Schemas.ParameterSource) {
        switch contract {
        case .case1: self = .user
        case .case2(let source): self = .tokenResponse(field: source.field, hostSuffix: source.hostSuffix)
        case .case3(let source): self = .resourceLookup(url: source.url, field: source.field)
        }
    }
}

extension RateLimitHeaders {
    fileprivate var contract: Components.Schemas.RateLimitHeaders {
        let format: Components.Schemas.RateLimitHeaders.ResetFormatPayload? =
            switch resetFormat {
            case .epochSeconds: .epochSeconds
            case .epochMilliseconds: .epochMilliseconds
            case .deltaSeconds: .deltaSeconds
            case .timestamp: .timestamp
            case nil: nil
            }
        return Components.Schemas.RateLimitHeaders(limit: limit, remaining: remaining, reset: reset, resetFormat: format)
    }

    fileprivate init(contract: Components.Schemas.RateLimitHeaders) {
        let format: ResetFormat? =
            switch contract.resetFormat {
            case .epochSeconds: .epochSeconds
            case .epochMilliseconds: .epochMilliseconds
            case .deltaSeconds: .deltaSeconds
            case .timestamp: .timestamp
            case nil: nil
            }
        self.init(limit: contract.limit, remaining: contract.remaining, reset: contract.reset, resetFormat: format)
    }
}

extension WebhookSignatureScheme {
    fileprivate var contract: Components.Schemas.WebhookSignatureScheme {
        switch self {
        case .none:
            .case1(.init(_type: .none))
        case .hmacSHA256Hex(let header, let prefix):
            .case2(.init(_type: .hmacSha256Hex, header: header, prefix: prefix))
        case .hmacSHA256Base64(let header):
            .case3(.init(_type: .hmacSha256Base64, header: header))
        case .stripe(let header, let tolerance):
            .case4(.init(_type: .stripe, header: header, toleranceSeconds: tolerance))
        case .slack(let signatureHeader, let timestampHeader, let tolerance):
            .case5(.init(_type: .slack, signatureHeader: signatureHeader, timestampHeader: timestampHeader, toleranceSeconds: tolerance))
        case .timestampedHMACSHA256Base64(let signatureHeader, let timestampHeader):
            .case6(.init(_type: .timestampedHmacSha256Base64, signatureHeader: signatureHeader, timestampHeader: timestampHeader))
        case .hubspotV3(let signatureHeader, let timestampHeader, let tolerance):
            .case7(.init(_type: .hubspotV3, signatureHeader: signatureHeader, timestampHeader: timestampHeader, toleranceSeconds: tolerance))
        case .standardWebhooks(let tolerance):
            .case8(.init(_type: .standardWebhooks, toleranceSeconds: tolerance))
        }
    }

    fileprivate init(contract: Components.Schemas.WebhookSignatureScheme) {
        switch contract {
        case .case1:
            self = .none
        case .case2(let scheme):
            self = .hmacSHA256Hex(header: scheme.header, prefix: scheme.prefix)
        case .case3(let scheme):
            self = .hmacSHA256Base64(header: scheme.header)
        case .case4(let scheme):
            self = .stripe(header: scheme.header, toleranceSeconds: scheme.toleranceSeconds)
        case .case5(let scheme):
            self = .slack(signatureHeader: scheme.signatureHeader, timestampHeader: scheme.timestampHeader, toleranceSeconds: scheme.toleranceSeconds)
        case .case6(let scheme):
            self = .timestampedHMACSHA256Base64(signatureHeader: scheme.signatureHeader, timestampHeader: scheme.timestampHeader)
        case .case7(let scheme):
            self = .hubspotV3(
                signatureHeader: scheme.signatureHeader,
                timestampHeader: scheme.timestampHeader,
                toleranceSeconds: scheme.toleranceSeconds
            )
        case .case8(let scheme):
            self = .standardWebhooks(toleranceSeconds: scheme.toleranceSeconds)
        }
    }
}
