import Foundation
import SwitchyardCore
import SwitchyardProviders
import Testing

/// The built-in provider catalog, URL-template resolution and custom-provider validation.
@Suite("Provider catalog")
struct ProviderCatalogTests {
    static let catalog = ProviderCatalog.builtIn

    static func provider(_ id: String) throws -> ProviderDefinition {
        try #require(catalog.provider(id: id), "no built-in provider \(id)")
    }

    /// Each declared parameter's example value: what a real connection would carry.
    static func exampleParameters(of provider: ProviderDefinition) -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: provider.connectionParameters.compactMap { parameter in
                parameter.example.map { (parameter.name, $0) }
            }
        )
    }

    /// The validation error for `definition`, or nil when it passes.
    static func validationError(
        _ definition: ProviderDefinition,
        allowingHTTPHosts: Set<String> = []
    ) -> DefinitionValidationError? {
        do {
            try definition.validateCustom(allowingHTTPHosts: allowingHTTPHosts)
            return nil
        } catch {
            return error
        }
    }

    /// A well-formed tenant-defined provider that each custom-validation test breaks in one way.
    static let customProvider = ProviderDefinition(
        id: "acme-crm",
        displayName: "Acme CRM",
        authentication: .oauth2(
            OAuth2Settings(
                authorizeURL: "https://{tenant}.acme-crm.example.com/oauth/authorize",
                tokenURL: "https://{tenant}.acme-crm.example.com/oauth/token",
                revocation: TokenRevocation(url: "https://{tenant}.acme-crm.example.com/oauth/revoke", style: .rfc7009),
                defaultScopes: ["contacts.read", "deals:write"],
                pkce: .required,
                tokenEndpointAuthMethod: .clientSecretBasic,
                extraAuthorizeParameters: ["access_type": "offline"],
                refreshTokensRotate: true
            )
        ),
        apiBaseURL: "https://{tenant}.acme-crm.example.com/api/{version}",
        requiredHeaders: ["Acme-Version": "2024-01-01"],
        connectionParameters: [
            ConnectionParameter(
                name: "tenant",
                description: "The Acme tenant.",
                pattern: ConnectionParameter.dnsLabelPattern,
                example: "globex"
            ),
            ConnectionParameter(name: "version", description: "API version.", pattern: "^v[0-9]{1,2}$", example: "v2"),
        ],
        rateLimitHeaders: RateLimitHeaders(limit: "X-Limit", remaining: "X-Remaining", reset: "X-Reset", resetFormat: .epochSeconds),
        webhookSignature: .hmacSHA256Hex(header: "X-Acme-Signature", prefix: "sha256="),
        webhookEventIDHeader: "X-Acme-Delivery",
        documentationURL: "https://docs.acme-crm.example.com/oauth"
    )

    static func custom(_ change: (inout ProviderDefinition) -> Void) -> ProviderDefinition {
        var definition = customProvider
        change(&definition)
        return definition
    }

    static func customOAuth(_ change: (inout OAuth2Settings) -> Void) -> ProviderDefinition {
        custom { definition in
            guard var settings = definition.authentication.oauth2 else { return }
            change(&settings)
            definition.authentication = .oauth2(settings)
        }
    }

    // MARK: The built-in catalog

    @Test("the built-in catalog has the required providers, unique ids, listed in id order")
    func builtInListing() throws {
        let ids = Self.catalog.providers.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(ids == ids.sorted())
        let required = [
            "github", "slack", "google", "microsoft", "hubspot", "salesforce", "stripe", "shopify", "notion",
            "linear", "zendesk", "jira",
        ]
        for id in required {
            let provider = try Self.provider(id)
            #expect(provider.id == id)
        }
        #expect(Self.catalog.provider(id: "nope") == nil)
        #expect(Self.catalog.provider(id: "GitHub") == nil)
        let error = #expect(throws: SwitchyardError.self) { try Self.catalog.requireProvider(id: "nope") }
        #expect(error?.kind == .notFound)
    }

    @Test("a catalog refuses two providers with the same id")
    func duplicateIDs() throws {
        let github = try Self.provider("github")
        #expect(throws: ProviderCatalogError.duplicateID("github")) { try ProviderCatalog([github, github]) }
    }

    @Test("every built-in provider passes the structural checks applied to custom providers")
    func builtInsAreWellFormed() {
        for provider in Self.catalog.providers {
            let error = Self.validationError(provider)
            #expect(error == nil, "\(provider.id): \(error?.description ?? "")")
        }
    }

    @Test("every built-in resolves to https URLs with a host, and OAuth providers have authorize and token URLs")
    func builtInURLsResolve() throws {
        for provider in Self.catalog.providers {
            let parameters = Self.exampleParameters(of: provider)
            // Every required parameter has an example, so every template can be exercised.
            for parameter in provider.connectionParameters where parameter.required {
                #expect(parameters[parameter.name] != nil, "\(provider.id).\(parameter.name) has no example")
            }
            var urls = [try provider.apiBaseURL(with: parameters)]
            switch provider.authType {
            case .oauth2:
                let endpoints = try #require(try provider.oauth2Endpoints(with: parameters), "\(provider.id)")
                urls += [endpoints.authorizeURL, endpoints.tokenURL]
                if let revocation = endpoints.revocationURL { urls.append(revocation) }
                #expect(provider.authentication.credentials == nil)
            case .apiKey, .basic:
                #expect(try provider.oauth2Endpoints(with: parameters) == nil)
                let scheme = try #require(provider.authentication.credentials, "\(provider.id)")
                #expect(!scheme.fields.isEmpty)
            }
            for url in urls {
                #expect(url.scheme == "https", "\(provider.id): \(url)")
                #expect(url.host?.isEmpty == false, "\(provider.id): \(url)")
                #expect(url.user == nil && url.password == nil && url.fragment == nil, "\(provider.id): \(url)")
                #expect(!url.absoluteString.contains("{"), "\(provider.id): \(url)")
            }
        }
    }

    @Test("templated URLs resolve with valid parameters to the provider's own hosts")
    func templatesResolve() throws {
        let shopify = try Self.provider("shopify")
        #expect(shopify.apiBaseURLTemplate.parameterNames == ["shop"])
        #expect(
            try shopify.apiBaseURL(with: ["shop": "acme-store"]).absoluteString
                == "https://acme-store.myshopify.com/admin/api/2026-04"
        )
        let shopifyOAuth = try #require(try shopify.oauth2Endpoints(with: ["shop": "acme-store"]))
        #expect(shopifyOAuth.authorizeURL.absoluteString == "https://acme-store.myshopify.com/admin/oauth/authorize")
        #expect(shopifyOAuth.tokenURL.absoluteString == "https://acme-store.myshopify.com/admin/oauth/access_token")

        let zendesk = try Self.provider("zendesk")
        #expect(try zendesk.apiBaseURL(with: ["subdomain": "acme"]).absoluteString == "https://acme.zendesk.com/api/v2")

        let jira = try Self.provider("jira")
        let cloudID = "1324a887-45db-1bf4-1e99-ef0ff456d421"
        #expect(
            try jira.apiBaseURL(with: ["cloud_id": cloudID]).absoluteString
                == "https://api.atlassian.com/ex/jira/\(cloudID)/rest/api/3"
        )
        #expect(throws: ConnectionParameterError.self) { try jira.apiBaseURL(with: ["cloud_id": "not-a-uuid"]) }

        let salesforce = try Self.provider("salesforce")
        #expect(
            try salesforce.apiBaseURL(with: ["instance": "acme"]).absoluteString
                == "https://acme.my.salesforce.com/services/data/v67.0"
        )

        let github = try Self.provider("github")
        #expect(try github.apiBaseURL(with: [:]).absoluteString == "https://api.github.com")
    }

    // MARK: Connection parameters

    @Test(
        "a parameter value that could change the URL's host or path is refused",
        arguments: [
            "evil.com/x", "a.b", "a@b", "..", "", "ACME", String(repeating: "a", count: 64), String(repeating: "a", count: 101),
            "a/b", "a:443", "a%2eb", "a b", "a\r\nb", "a?b", "a#b", "-acme", "evil.com", "acme.myshopify.com", "..%2f",
            "ａcme",
        ]
    )
    func injectionRefused(value: String) throws {
        let shopify = try Self.provider("shopify")
        let error = #expect(throws: ConnectionParameterError.self) { try shopify.apiBaseURL(with: ["shop": value]) }
        guard case .invalid(let name, _)? = error else {
            Issue.record("expected .invalid for \(value.debugDescription), got \(String(describing: error))")
            return
        }
        #expect(name == "shop")
        #expect(throws: ConnectionParameterError.self) { try shopify.oauth2Endpoints(with: ["shop": value]) }
        let problem = try #require(error?.switchyardError)
        #expect(problem.kind == .unprocessable)
        #expect(problem.code == "validation-failed")
        #expect(problem.detail.contains("'shop'"))
        if value.count >= 3 { #expect(!problem.detail.contains(value), "the rejected value is echoed") }
    }

    @Test("missing, unknown and invalid parameters are distinct errors that name the parameter")
    func parameterErrorsAreDistinct() throws {
        let shopify = try Self.provider("shopify")
        #expect(throws: ConnectionParameterError.missing(name: "shop")) { try shopify.apiBaseURL(with: [:]) }
        #expect(throws: ConnectionParameterError.unknown(name: "host")) {
            try shopify.apiBaseURL(with: ["shop": "acme", "host": "evil"])
        }
        let invalid = #expect(throws: ConnectionParameterError.self) { try shopify.apiBaseURL(with: ["shop": "a.b"]) }
        guard case .invalid(name: "shop", _)? = invalid else {
            Issue.record("expected .invalid(shop), got \(String(describing: invalid))")
            return
        }
        let messages = [
            ConnectionParameterError.missing(name: "shop"), .unknown(name: "host"), try #require(invalid),
        ].map(\.switchyardError)
        #expect(messages.allSatisfy { $0.kind == .unprocessable && $0.code == "validation-failed" })
        #expect(messages[0].detail.contains("'shop' is required"))
        #expect(messages[1].detail.contains("'host' is not defined"))
        #expect(messages[2].detail.contains("'shop' is invalid"))
        #expect(Set(messages.map(\.detail)).count == 3)
        // A provider without parameters refuses any.
        #expect(throws: ConnectionParameterError.unknown(name: "shop")) {
            try Self.provider("github").apiBaseURL(with: ["shop": "acme"])
        }
    }

    @Test("no pattern can widen the fixed safe alphabet of parameter values")
    func patternCannotWidenAlphabet() throws {
        let lax = Self.custom { definition in
            definition.connectionParameters[0].pattern = ".*"
        }
        for value in ["evil.com", "a/b", "a@b", "a:1", "a%40b"] {
            #expect(throws: ConnectionParameterError.self) { try lax.apiBaseURL(with: ["tenant": value, "version": "v2"]) }
        }
        #expect(throws: Never.self) { try lax.apiBaseURL(with: ["tenant": "Globex-1", "version": "v2"]) }
        // '_' is in the alphabet but not in host names, so it is refused there, against the parameter.
        let underscore = #expect(throws: ConnectionParameterError.self) {
            try lax.apiBaseURL(with: ["tenant": "globex_1", "version": "v2"])
        }
        guard case .invalid(name: "tenant", _)? = underscore else {
            Issue.record("expected .invalid(tenant), got \(String(describing: underscore))")
            return
        }
        let inPath = Self.custom { definition in
            definition.apiBaseURLTemplate = "https://api.acme-crm.example.com/{tenant}/{version}"
            definition.connectionParameters[0].pattern = ".*"
        }
        #expect(try inPath.apiBaseURL(with: ["tenant": "Globex_1", "version": "v2"]).path == "/Globex_1/v2")
    }

    @Test("Salesforce's instance is taken from instance_url only when it is on the org's My Domain")
    func salesforceInstanceFromTokenResponse() throws {
        let parameter = try #require(try Self.provider("salesforce").connectionParameter(named: "instance"))
        #expect(try parameter.value(fromTokenResponseField: "https://acme.my.salesforce.com") == "acme")
        #expect(try parameter.value(fromTokenResponseField: "https://ACME.my.salesforce.com/") == "acme")
        for instanceURL in [
            "https://evil.example/x.my.salesforce.com", "https://a.b.my.salesforce.com", "http://acme.my.salesforce.com",
            "https://user@acme.my.salesforce.com", "https://acme.my.salesforce.com.evil.example", "https://my.salesforce.com",
            "https://acme.my.salesforce.com:8443", "acme", "",
        ] {
            #expect(throws: ConnectionParameterError.self, "\(instanceURL)") {
                try parameter.value(fromTokenResponseField: instanceURL)
            }
        }
        let sandbox = try #require(try Self.provider("salesforce-sandbox").connectionParameter(named: "instance"))
        #expect(try sandbox.value(fromTokenResponseField: "https://acme--uat.sandbox.my.salesforce.com") == "acme--uat")
        #expect(throws: ConnectionParameterError.self) {
            try parameter.value(fromTokenResponseField: "https://acme--uat.sandbox.my.salesforce.com")
        }
    }

    // MARK: Credentials

    @Test("api_key and basic credentials become the documented header, and OAuth providers inject none")
    func credentialInjection() throws {
        let stripe = try Self.provider("stripe")
        let header = try #require(try stripe.credentialHeader(for: ["api_key": "sk_test_123"]))
        #expect(header.name == "Authorization")
        #expect(header.value == "Bearer sk_test_123")
        #expect(!"\(header)".contains("sk_test_123"), "the header's description leaks the key")

        let zendesk = try Self.provider("zendesk-api-token")
        #expect(zendesk.authType == .basic)
        let basic = try #require(try zendesk.credentialHeader(for: ["email": "agent@example.com", "api_token": "abc"]))
        #expect(basic.name == "Authorization")
        #expect(basic.value == "Basic " + Data("agent@example.com/token:abc".utf8).base64EncodedString())

        #expect(try Self.provider("github").credentialHeader(for: [:]) == nil)
    }

    @Test("credential values that are missing, unknown or could split a header are refused without being echoed")
    func credentialRefusals() throws {
        let stripe = try Self.provider("stripe")
        #expect(throws: CredentialError.missing(field: "api_key")) { try stripe.credentialHeader(for: [:]) }
        #expect(throws: CredentialError.unknown(field: "secret")) {
            try stripe.credentialHeader(for: ["api_key": "sk_test_1", "secret": "x"])
        }
        for value in ["sk_test_1\r\nX-Injected: 1", "sk\0", ""] {
            let error = #expect(throws: CredentialError.self) { try stripe.credentialHeader(for: ["api_key": value]) }
            if !value.isEmpty { #expect(error?.switchyardError.detail.contains(value) == false) }
            #expect(error?.switchyardError.kind == .unprocessable)
        }
        let zendesk = try Self.provider("zendesk-api-token")
        #expect(throws: CredentialError.self) {
            try zendesk.credentialHeader(for: ["email": "a:b@example.com", "api_token": "abc"])
        }
    }

    // MARK: Provider data

    @Test("provider specifics from their documentation are modelled")
    func providerSpecifics() throws {
        let google = try #require(try Self.provider("google").authentication.oauth2)
        #expect(google.extraAuthorizeParameters["access_type"] == "offline")
        #expect(google.extraAuthorizeParameters["prompt"] == "consent")

        let notion = try Self.provider("notion")
        #expect(notion.requiredHeaders["Notion-Version"] != nil)
        let notionOAuth = try #require(notion.authentication.oauth2)
        #expect(notionOAuth.tokenEndpointAuthMethod == .clientSecretBasic)
        #expect(notionOAuth.tokenRequestEncoding == .json)

        let jira = try Self.provider("jira")
        #expect(jira.authentication.oauth2?.extraAuthorizeParameters["audience"] == "api.atlassian.com")
        #expect(
            jira.connectionParameter(named: "cloud_id")?.source
                == .resourceLookup(url: "https://api.atlassian.com/oauth/token/accessible-resources", field: "id")
        )

        let slack = try #require(try Self.provider("slack").authentication.oauth2)
        #expect(slack.scopeParameter(["channels:read", "chat:write"]) == "channels:read,chat:write")
        let microsoft = try #require(try Self.provider("microsoft").authentication.oauth2)
        #expect(microsoft.scopeParameter(microsoft.defaultScopes) == "offline_access User.Read")

        #expect(try Self.provider("github").webhookSignature == .hmacSHA256Hex(header: "X-Hub-Signature-256", prefix: "sha256="))
        #expect(try Self.provider("stripe").webhookSignature == .stripe(header: "Stripe-Signature", toleranceSeconds: 300))
        #expect(try Self.provider("shopify").webhookSignature.requiredHeaders == ["X-Shopify-Hmac-SHA256"])
    }

    // MARK: Custom providers

    @Test("a well-formed custom provider passes, and its templates resolve")
    func customProviderPasses() throws {
        #expect(Self.validationError(Self.customProvider) == nil)
        #expect(
            try Self.customProvider.apiBaseURL(with: ["tenant": "globex", "version": "v2"]).absoluteString
                == "https://globex.acme-crm.example.com/api/v2"
        )
    }

    @Test("custom URLs must be https unless the host is allow-listed for plain http")
    func customHTTPRefused() {
        let plain = Self.custom { $0.apiBaseURLTemplate = "http://localhost:8080/api" }
        let error = Self.validationError(plain)
        #expect(error?.concerns("api_base_url") == true)
        #expect(error?.description.contains("https") == true)
        #expect(Self.validationError(plain, allowingHTTPHosts: ["localhost"]) == nil)
        #expect(Self.validationError(plain, allowingHTTPHosts: ["example.com"]) != nil)
        #expect(throws: Never.self) {
            try plain.apiBaseURL(with: ["tenant": "globex", "version": "v2"], allowingHTTPHosts: ["localhost"])
        }
        #expect(throws: ConnectionParameterError.self) { try plain.apiBaseURL(with: ["tenant": "globex", "version": "v2"]) }
        let ftp = Self.custom { $0.apiBaseURLTemplate = "ftp://files.example.com/" }
        #expect(Self.validationError(ftp, allowingHTTPHosts: ["files.example.com"])?.concerns("api_base_url") == true)
        let insecureToken = Self.customOAuth { $0.tokenURL = "http://auth.example.com/token" }
        #expect(Self.validationError(insecureToken)?.concerns("oauth2.token_url") == true)
    }

    @Test(
        "custom URLs with user information, a fragment or a query where none belongs are refused",
        arguments: [
            "https://user:pw@api.example.com/v1", "https://api.example.com@evil.example/v1", "https://user@api.example.com",
            "https://api.example.com/v1#frag", "https://api.example.com/v1?x=1", "https:///v1", "api.example.com/v1",
            "https://api.example.com/v1 x", "https://[::1]/v1", "https://api.example.com\\@evil.example/",
            // IP literals in every form a resolver reads (issue 12, item 13): a DNS host is required.
            "https://169.254.169.254/latest", "https://10.0.0.1/v1", "https://2130706433/", "https://0x7f000001/", "https://127.1/",
            "https://0177.0.0.1/", "https://api.example.123/",
        ]
    )
    func customURLSyntaxRefused(url: String) {
        let definition = Self.custom { $0.apiBaseURLTemplate = URLTemplate(url) }
        #expect(Self.validationError(definition)?.concerns("api_base_url") == true, "\(url) was accepted")
    }

    @Test("custom templates may only use declared, required parameters, and never to pick the domain")
    func customTemplatePlacement() {
        let refused: [URLTemplate] = [
            "https://{region}.acme-crm.example.com/api",  // undeclared
            "https://{tenant}/api",  // the whole host
            "https://{tenant}.com/api",  // the registrable domain
            "https://api.{tenant}/v1",
            "{tenant}://api.example.com/",  // the scheme
            "https://api.example.com:{tenant}/",  // the port
            "https://{tenant.acme-crm.example.com/api",  // unbalanced
            "https://api.example.com/{Tenant}",  // not a placeholder name
        ]
        for template in refused {
            let definition = Self.custom { $0.apiBaseURLTemplate = template }
            #expect(Self.validationError(definition)?.concerns("api_base_url") == true, "\(template) was accepted")
        }
        let optional = Self.custom { definition in
            definition.connectionParameters[1].required = false
        }
        #expect(Self.validationError(optional)?.description.contains("optional") == true)
        let undeclaredInAuthorize = Self.customOAuth { $0.authorizeURL = "https://{region}.acme-crm.example.com/authorize" }
        #expect(Self.validationError(undeclaredInAuthorize)?.concerns("oauth2.authorize_url") == true)
        let pathParameter = Self.custom { $0.apiBaseURLTemplate = "https://api.acme-crm.example.com/{tenant}/{version}" }
        #expect(Self.validationError(pathParameter) == nil)
    }

    @Test("custom scopes, authorize parameters, headers and patterns must be sane")
    func customFieldRules() {
        let cases: [(ProviderDefinition, String)] = [
            (Self.customOAuth { $0.defaultScopes = ["read write"] }, "oauth2.default_scopes"),
            (Self.customOAuth { $0.defaultScopes = [""] }, "oauth2.default_scopes"),
            (Self.customOAuth { $0.defaultScopes = ["read", "read"] }, "oauth2.default_scopes"),
            (Self.customOAuth { $0.defaultScopes = ["a\"b"] }, "oauth2.default_scopes"),
            (Self.customOAuth { $0.defaultScopes = (0...100).map { "s\($0)" } }, "oauth2.default_scopes"),
            (
                Self.customOAuth { settings in
                    settings.scopeSeparator = .comma
                    settings.defaultScopes = ["a,b"]
                }, "oauth2.default_scopes"
            ),
            (Self.customOAuth { $0.extraAuthorizeParameters = ["state": "fixed"] }, "oauth2.extra_authorize_parameters"),
            (Self.customOAuth { $0.extraAuthorizeParameters = ["redirect_uri": "https://evil.example"] }, "oauth2.extra_authorize_parameters"),
            (Self.customOAuth { $0.extraAuthorizeParameters = ["code_challenge_method": "plain"] }, "oauth2.extra_authorize_parameters"),
            (Self.customOAuth { $0.extraAuthorizeParameters = ["x": "a\nb"] }, "oauth2.extra_authorize_parameters"),
            (Self.custom { $0.id = "Acme CRM" }, "id"),
            (Self.custom { $0.id = String(repeating: "a", count: 64) }, "id"),
            (Self.custom { $0.displayName = String(repeating: "x", count: 101) }, "display_name"),
            (Self.custom { $0.displayName = " " }, "display_name"),
            (Self.custom { $0.requiredHeaders = ["Authorization": "Bearer x"] }, "required_headers"),
            (Self.custom { $0.requiredHeaders = ["Host": "evil.example"] }, "required_headers"),
            (Self.custom { $0.requiredHeaders = ["X-Ok": "a\r\nX-Injected: 1"] }, "required_headers"),
            (Self.custom { $0.connectionParameters[0].pattern = "(a+)+$" }, "connection_parameters"),
            (Self.custom { $0.connectionParameters[0].pattern = "^(a|aa)*$" }, "connection_parameters"),
            (Self.custom { $0.connectionParameters[0].pattern = "^(a)\\1$" }, "connection_parameters"),
            (Self.custom { $0.connectionParameters[0].pattern = "[" }, "connection_parameters"),
            (Self.custom { $0.connectionParameters[0].example = "not valid!" }, "connection_parameters"),
            (Self.custom { $0.connectionParameters[1].name = "tenant" }, "connection_parameters"),
            (
                Self.custom { $0.connectionParameters[0].source = .resourceLookup(url: "http://169.254.169.254/", field: "id") },
                "connection_parameters"
            ),
            (Self.custom { $0.connectionParameters[0].source = .tokenResponse(field: "url", hostSuffix: ".com") }, "connection_parameters"),
            (Self.custom { $0.webhookSignature = .stripe(header: "Bad Header", toleranceSeconds: 300) }, "webhook_signature"),
            (Self.custom { $0.webhookSignature = .standardWebhooks(toleranceSeconds: 0) }, "webhook_signature"),
            (Self.custom { $0.rateLimitHeaders = RateLimitHeaders(limit: "X-Limit", remaining: nil, reset: "X-Reset") }, "rate_limit_headers"),
            (Self.custom { $0.documentationURL = "javascript:alert(1)" }, "documentation_url"),
        ]
        for (definition, field) in cases {
            let error = Self.validationError(definition)
            #expect(error?.concerns(field) == true, "expected a problem at \(field), got \(error?.description ?? "none")")
        }
        // Safe patterns with bounded repetition stay accepted.
        let safe = Self.custom { $0.connectionParameters[0].pattern = "^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$" }
        #expect(Self.validationError(safe) == nil)
    }

    @Test("custom credential schemes may only inject declared fields into an ordinary header")
    func customCredentialRules() {
        let base = CredentialScheme(
            fields: [CredentialField(name: "api_key", description: "Key.", secret: true)],
            injection: .header(name: "X-Api-Key", value: "{api_key}")
        )
        #expect(Self.validationError(Self.custom { $0.authentication = .apiKey(base) }) == nil)
        let refused: [CredentialScheme] = [
            CredentialScheme(fields: base.fields, injection: .header(name: "Host", value: "{api_key}")),
            CredentialScheme(fields: base.fields, injection: .header(name: "Bad Name", value: "{api_key}")),
            CredentialScheme(fields: base.fields, injection: .header(name: "X-Api-Key", value: "{secret}")),
            CredentialScheme(fields: base.fields, injection: .header(name: "X-Api-Key", value: "fixed")),
            CredentialScheme(fields: [], injection: .header(name: "X-Api-Key", value: "x")),
            CredentialScheme(fields: base.fields, injection: .basic(username: "{user}", password: "{api_key}")),
        ]
        for scheme in refused {
            let error = Self.validationError(Self.custom { $0.authentication = .apiKey(scheme) })
            #expect(error?.concerns("credentials") == true, "\(scheme) was accepted")
        }
    }

    @Test("custom validation reports every problem at once as one 422")
    func customValidationReportsAll() throws {
        let broken = Self.custom { definition in
            definition.id = "Bad Id"
            definition.apiBaseURLTemplate = "http://user@api.example.com/#x"
        }
        let error = try #require(Self.validationError(broken))
        #expect(error.issues.count >= 4)
        #expect(error.concerns("id") && error.concerns("api_base_url"))
        #expect(error.switchyardError.kind == .unprocessable)
        #expect(error.switchyardError.code == "validation-failed")
    }

    @Test("a custom provider id must be a slug that no built-in provider uses")
    func customProviderID() {
        let taken = #expect(throws: SwitchyardError.self) { try Self.catalog.checkCustomProviderID("github") }
        #expect(taken?.kind == .conflict)
        let malformed = #expect(throws: SwitchyardError.self) { try Self.catalog.checkCustomProviderID("My Provider") }
        #expect(malformed?.kind == .unprocessable)
        #expect(throws: Never.self) { try Self.catalog.checkCustomProviderID("acme-crm") }
    }

    // MARK: Coding

    @Test("every definition survives a JSON round trip unchanged, and re-encodes byte for byte")
    func codableRoundTrip() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let definitions = Self.catalog.providers + [Self.customProvider]
        let data = try encoder.encode(definitions)
        let decoded = try JSONDecoder().decode([ProviderDefinition].self, from: data)
        #expect(decoded == definitions)
        #expect(try encoder.encode(decoded) == data)
    }

    @Test("the JSON form is flat, snake_case and says which authentication it carries")
    func jsonShape() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let github = try JSONSerialization.jsonObject(with: encoder.encode(Self.provider("github"))) as? [String: Any]
        #expect(github?["auth_type"] as? String == "oauth2")
        #expect(github?["api_base_url"] as? String == "https://api.github.com")
        #expect(github?["credentials"] == nil)
        let oauth = github?["oauth2"] as? [String: Any]
        #expect(oauth?["authorize_url"] as? String == "https://github.com/login/oauth/authorize")
        #expect(oauth?["pkce"] as? String == "supported")
        let webhook = github?["webhook_signature"] as? [String: Any]
        #expect(webhook?["type"] as? String == "hmac_sha256_hex")

        let stripe = try JSONSerialization.jsonObject(with: encoder.encode(Self.provider("stripe"))) as? [String: Any]
        #expect(stripe?["auth_type"] as? String == "api_key")
        #expect(stripe?["oauth2"] == nil)
        let injection = (stripe?["credentials"] as? [String: Any])?["injection"] as? [String: Any]
        #expect(injection?["type"] as? String == "header")
        #expect(injection?["value"] as? String == "Bearer {api_key}")

        let shopify = try JSONSerialization.jsonObject(with: encoder.encode(Self.provider("shopify"))) as? [String: Any]
        #expect((shopify?["oauth2"] as? [String: Any])?["pkce"] as? String == "none")
    }

    @Test("decoding refuses an unknown authentication type or a definition without its settings")
    func decodingRefusesInconsistentAuth() {
        let unknownType = #"{"id":"x","display_name":"X","auth_type":"saml","api_base_url":"https://x.example.com"}"#
        let missingSettings = #"{"id":"x","display_name":"X","auth_type":"oauth2","api_base_url":"https://x.example.com"}"#
        for json in [unknownType, missingSettings] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(ProviderDefinition.self, from: Data(json.utf8)) }
        }
    }
}
