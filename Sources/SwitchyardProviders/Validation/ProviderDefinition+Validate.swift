import Foundation
import SwitchyardCore

extension ProviderDefinition {
    /// Most connection parameters, credential fields, scopes and similar lists a definition may have.
    static let maximumListLength = 20
    static let maximumScopes = 100

    /// Whether `id` is a valid provider id: the tenant slug rule (1 to 63 of a-z, 0-9, '-', not starting or ending with '-').
    public static func isValidID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        return (1...63).contains(bytes.count) && bytes.first != 45 && bytes.last != 45
            && bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 }
    }

    /// Checks the structure of a tenant-defined provider before it is stored or used.
    ///
    /// Syntactic only: every URL must be https with a DNS host and no userinfo or fragment (plain http only for
    /// hosts in `allowingHTTPHosts`, for development), templates may only place declared, required parameters
    /// in the host (before a fixed domain of two or more labels), path or query, and every list and string is
    /// bounded. Hosts are not resolved here; the SSRF guard does that at connect time (API-5). Whether the id
    /// clashes with a built-in is `ProviderCatalog.checkCustomProviderID(_:)`'s business.
    public func validateCustom(allowingHTTPHosts: Set<String> = []) throws(DefinitionValidationError) {
        var validator = DefinitionValidator(definition: self, allowingHTTPHosts: Set(allowingHTTPHosts.map { $0.lowercased() }))
        validator.validate()
        if !validator.issues.isEmpty { throw DefinitionValidationError("provider definition", issues: validator.issues) }
    }
}

/// Collects every structural problem of one definition, so a tenant sees them all at once.
private struct DefinitionValidator {
    let definition: ProviderDefinition
    let allowingHTTPHosts: Set<String>
    var issues: [DefinitionValidationError.Issue] = []

    /// Authorization-request parameters that Switchyard itself sets; a definition overriding them could
    /// weaken state or PKCE (OA-1, OA-2) or redirect the code.
    static let reservedAuthorizeParameters: Set<String> = [
        "response_type", "client_id", "client_secret", "redirect_uri", "state", "scope",
        "code_challenge", "code_challenge_method", "code_verifier",
    ]

    mutating func fail(_ field: String, _ message: String) {
        issues.append(.init(field: field, message: message))
    }

    mutating func validate() {
        if !ProviderDefinition.isValidID(definition.id) {
            fail("id", "must be 1 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'")
        }
        let name = definition.displayName.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || !HTTPToken.isPrintable(definition.displayName, maximumLength: 100) {
            fail("display_name", "must be 1 to 100 printable characters")
        }
        validateParameters()
        checkTemplate(definition.apiBaseURLTemplate, field: "api_base_url", allowQuery: false)
        switch definition.authentication {
        case .oauth2(let settings): validateOAuth2(settings)
        case .apiKey(let scheme), .basic(let scheme): validateCredentials(scheme)
        }
        validateRequiredHeaders()
        validateRateLimitHeaders()
        validateWebhook()
        if let url = definition.documentationURL {
            checkFixedURL(url, field: "documentation_url")
        }
    }

    // MARK: Connection parameters

    mutating func validateParameters() {
        let parameters = definition.connectionParameters
        if parameters.count > ProviderDefinition.maximumListLength {
            fail("connection_parameters", "must have at most \(ProviderDefinition.maximumListLength) entries")
        }
        var seen: Set<String> = []
        for (index, parameter) in parameters.enumerated() {
            let field = "connection_parameters[\(index)]"
            checkNamed(parameter.name, description: parameter.description, field: field, seen: &seen)
            if let problem = PatternSafety.problem(in: parameter.pattern) {
                fail("\(field).pattern", problem)
            } else if let example = parameter.example {
                do {
                    try parameter.check(example)
                } catch {
                    fail("\(field).example", "does not satisfy the parameter's own rules")
                }
            }
            validateSource(parameter.source, field: "\(field).source")
        }
    }

    mutating func validateSource(_ source: ParameterSource, field: String) {
        switch source {
        case .user:
            break
        case .tokenResponse(let responseField, let hostSuffix):
            if !Self.isJSONFieldName(responseField) { fail("\(field).field", "must be 1 to 64 characters of letters, digits, '_', '-' and '.'") }
            if let hostSuffix {
                let labels = hostSuffix.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
                if !hostSuffix.hasPrefix(".") || labels.count < 2 || !URLSyntax.isDNSName(String(hostSuffix.dropFirst())) {
                    fail("\(field).host_suffix", "must be a fixed domain of at least two labels starting with '.', e.g. .my.salesforce.com")
                }
            }
        case .resourceLookup(let url, let responseField):
            checkFixedURL(url, field: "\(field).url")
            if !Self.isJSONFieldName(responseField) { fail("\(field).field", "must be 1 to 64 characters of letters, digits, '_', '-' and '.'") }
        }
    }

    /// Checks the name and description of a parameter or credential field; `seen` catches repeated names.
    mutating func checkNamed(_ name: String, description: String, field: String, seen: inout Set<String>) {
        if !ParameterName.isValid(name) {
            fail("\(field).name", "must be 1 to 64 characters of a-z, 0-9 and '_', starting with a letter")
        } else if !seen.insert(name).inserted {
            fail("\(field).name", "repeats the name of another entry")
        }
        if description.isEmpty || !HTTPToken.isPrintable(description, maximumLength: 500) {
            fail("\(field).description", "must be 1 to 500 printable characters")
        }
    }

    static func isJSONFieldName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        return (1...64).contains(bytes.count)
            && bytes.allSatisfy { ConnectionParameter.isSafeByte($0) || $0 == 46 }
    }

    // MARK: URLs

    /// Checks a URL template: syntax, which parameters it uses, where they sit, and the URL it would produce.
    mutating func checkTemplate(_ template: URLTemplate, field: String, allowQuery: Bool) {
        let raw = template.rawValue
        let segments: [TemplateSegment]
        switch parseTemplateSegments(raw) {
        case .failure(let error):
            fail(field, "is not a valid template: \(error)")
            return
        case .success(let parsed):
            segments = parsed
        }
        for case .placeholder(let name) in segments {
            guard let parameter = definition.connectionParameter(named: name) else {
                fail(field, "references '{\(name)}', which is not a declared connection parameter")
                continue
            }
            if !parameter.required {
                fail(field, "references '{\(name)}', which is optional; templates may only use required parameters")
            }
        }
        guard let separator = raw.range(of: "://") else {
            fail(field, "is not an absolute URL")
            return
        }
        if raw[..<separator.lowerBound].contains("{") {
            fail(field, "must not have a placeholder in its scheme")
        }
        let authority = URLSyntax.authority(of: raw)
        if authority.contains("{") {
            let host = authority.prefix { $0 != ":" }
            if authority.dropFirst(host.count).contains("{") {
                fail(field, "must not have a placeholder in its port")
            }
            // A placeholder may pick a subdomain, never the registrable domain: `{shop}.myshopify.com` is fine,
            // `{host}` or `{name}.com` would let a value choose any site.
            if let lastClose = host.lastIndex(of: "}") {
                let suffix = host[host.index(after: lastClose)...]
                let labels = suffix.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
                if !suffix.hasPrefix(".") || labels.count < 2 || !URLSyntax.isDNSName(String(suffix.dropFirst()).lowercased()) {
                    fail(field, "must end its host with a fixed domain of at least two labels after the last placeholder, e.g. {shop}.myshopify.com")
                }
            }
        }
        var samples: [String: String] = [:]
        for parameter in definition.connectionParameters {
            let example = parameter.example.flatMap { example in (try? parameter.check(example)).map { example } }
            samples[parameter.name] = example ?? "x0"
        }
        guard case .success(let sample) = template.substitute(samples) else { return }
        for problem in URLSyntax.problems(in: sample, allowQuery: allowQuery, allowingHTTPHosts: allowingHTTPHosts) {
            fail(field, problem)
        }
    }

    /// Checks a URL that takes no parameters.
    mutating func checkFixedURL(_ url: String, field: String) {
        if url.contains("{") || url.contains("}") {
            fail(field, "must not contain placeholders")
            return
        }
        for problem in URLSyntax.problems(in: url, allowQuery: true, allowingHTTPHosts: allowingHTTPHosts) {
            fail(field, problem)
        }
    }

    // MARK: Authentication

    mutating func validateOAuth2(_ settings: OAuth2Settings) {
        checkTemplate(settings.authorizeURL, field: "oauth2.authorize_url", allowQuery: true)
        checkTemplate(settings.tokenURL, field: "oauth2.token_url", allowQuery: true)
        if let revocation = settings.revocation {
            checkTemplate(revocation.url, field: "oauth2.revocation.url", allowQuery: true)
        }
        if let issuer = settings.issuer, !HTTPToken.isPrintable(issuer, maximumLength: 500) || issuer.contains(" ") {
            fail("oauth2.issuer", "must be the authorization server's issuer identifier, at most 500 printable characters")
        }
        let scopes = settings.defaultScopes
        if scopes.count > ProviderDefinition.maximumScopes {
            fail("oauth2.default_scopes", "must have at most \(ProviderDefinition.maximumScopes) entries")
        }
        if Set(scopes).count != scopes.count { fail("oauth2.default_scopes", "must not repeat a scope") }
        for (index, scope) in scopes.enumerated() {
            if !HTTPToken.isScopeToken(scope) {
                fail("oauth2.default_scopes[\(index)]", "must be 1 to 256 printable characters without spaces, '\"' or '\\'")
            } else if settings.scopeSeparator == .comma && scope.contains(",") {
                fail("oauth2.default_scopes[\(index)]", "must not contain ',' when scopes are comma-separated")
            }
        }
        let parameters = settings.extraAuthorizeParameters
        if parameters.count > ProviderDefinition.maximumListLength {
            fail("oauth2.extra_authorize_parameters", "must have at most \(ProviderDefinition.maximumListLength) entries")
        }
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            let field = "oauth2.extra_authorize_parameters.\(printable(name))"
            if Self.reservedAuthorizeParameters.contains(name.lowercased()) {
                fail(field, "is set by Switchyard itself and cannot be overridden")
            } else if !Self.isJSONFieldName(name) {
                fail(field, "must be a name of 1 to 64 letters, digits, '_', '-' and '.'")
            }
            if !HTTPToken.isPrintable(value, maximumLength: 500) {
                fail(field, "must have a value of at most 500 printable characters")
            }
        }
    }

    mutating func validateCredentials(_ scheme: CredentialScheme) {
        if scheme.fields.isEmpty || scheme.fields.count > 10 {
            fail("credentials.fields", "must have 1 to 10 entries")
        }
        var names: Set<String> = []
        for (index, field) in scheme.fields.enumerated() {
            checkNamed(field.name, description: field.description, field: "credentials.fields[\(index)]", seen: &names)
        }
        var used: Set<String> = []
        switch scheme.injection {
        case .header(let name, let value):
            if !HTTPToken.isHeaderName(name) || HTTPToken.reservedHeaderNames.contains(name.lowercased()) {
                fail("credentials.injection.name", "must be a header name other than Host, Cookie or a transport header")
            }
            used.formUnion(checkCredentialTemplate(value, field: "credentials.injection.value", fields: names))
        case .basic(let username, let password):
            used.formUnion(checkCredentialTemplate(username, field: "credentials.injection.username", fields: names))
            used.formUnion(checkCredentialTemplate(password, field: "credentials.injection.password", fields: names))
        }
        for name in names.subtracting(used).sorted() {
            fail("credentials.fields", "has '\(name)', which the injection never uses")
        }
    }

    /// Checks one injection template and returns the fields it uses.
    mutating func checkCredentialTemplate(_ template: String, field: String, fields: Set<String>) -> Set<String> {
        guard HTTPToken.isPrintable(template, maximumLength: 500) else {
            fail(field, "must be at most 500 printable characters")
            return []
        }
        guard case .success(let segments) = parseTemplateSegments(template) else {
            fail(field, "is not a valid template")
            return []
        }
        var used: Set<String> = []
        for case .placeholder(let name) in segments {
            if fields.contains(name) { used.insert(name) } else { fail(field, "references '{\(name)}', which is not a declared credential field") }
        }
        return used
    }

    // MARK: Headers and webhooks

    mutating func validateRequiredHeaders() {
        let headers = definition.requiredHeaders
        if headers.count > ProviderDefinition.maximumListLength {
            fail("required_headers", "must have at most \(ProviderDefinition.maximumListLength) entries")
        }
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            let field = "required_headers.\(printable(name))"
            let lowered = name.lowercased()
            if !HTTPToken.isHeaderName(name) || HTTPToken.reservedHeaderNames.contains(lowered) || lowered == "authorization" {
                fail(field, "must be a header name other than Authorization, Host, Cookie or a transport header")
            }
            if !HTTPToken.isPrintable(value, maximumLength: 1000) {
                fail(field, "must have a value of at most 1000 printable characters")
            }
        }
    }

    mutating func validateRateLimitHeaders() {
        guard let headers = definition.rateLimitHeaders else { return }
        for (key, name) in [("limit", headers.limit), ("remaining", headers.remaining), ("reset", headers.reset)] {
            if let name, !HTTPToken.isHeaderName(name) { fail("rate_limit_headers.\(key)", "must be a header name") }
        }
        if (headers.reset == nil) != (headers.resetFormat == nil) {
            fail("rate_limit_headers.reset_format", "must be given exactly when a reset header is")
        }
    }

    mutating func validateWebhook() {
        let scheme = definition.webhookSignature
        for header in scheme.requiredHeaders where !HTTPToken.isHeaderName(header) {
            fail("webhook_signature", "names '\(printable(header))', which is not a header name")
        }
        switch scheme {
        case .hmacSHA256Hex(_, let prefix?):
            if prefix.isEmpty || !HTTPToken.isPrintable(prefix, maximumLength: 32) {
                fail("webhook_signature.prefix", "must be 1 to 32 printable characters")
            }
        case .stripe(_, let tolerance), .slack(_, _, let tolerance), .hubspotV3(_, _, let tolerance),
            .standardWebhooks(let tolerance):
            if !(1...3600).contains(tolerance) { fail("webhook_signature.tolerance_seconds", "must be 1 to 3600") }
        default:
            break
        }
        if let header = definition.webhookEventIDHeader, !HTTPToken.isHeaderName(header) {
            fail("webhook_event_id_header", "must be a header name")
        }
    }
}
