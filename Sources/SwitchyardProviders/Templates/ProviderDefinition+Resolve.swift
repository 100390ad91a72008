import Foundation

/// A provider's OAuth endpoints with connection parameters filled in.
public struct OAuth2Endpoints: Sendable, Hashable {
    public var authorizeURL: URL
    public var tokenURL: URL
    public var revocationURL: URL?
}

extension ProviderDefinition {
    /// Checks connection parameters: no unknown names, every required one present, every value valid.
    public func validateConnectionParameters(_ parameters: [String: String]) throws(ConnectionParameterError) {
        try validateConnectionParameters(parameters, requiringOnly: { _ in true })
    }

    /// Checks the parameters a person supplies before an OAuth connection starts: those the connect flow fills
    /// from the token response may still be absent.
    public func validateUserConnectionParameters(_ parameters: [String: String]) throws(ConnectionParameterError) {
        try validateConnectionParameters(parameters, requiringOnly: { $0.source == .user })
    }

    /// The parameters an end user fills in on the connect page.
    public var userConnectionParameters: [ConnectionParameter] { connectionParameters.filter { $0.source == .user } }

    private func validateConnectionParameters(
        _ parameters: [String: String],
        requiringOnly isRequired: (ConnectionParameter) -> Bool
    ) throws(ConnectionParameterError) {
        for name in parameters.keys.sorted() where connectionParameter(named: name) == nil {
            throw .unknown(name: name)
        }
        for parameter in connectionParameters {
            guard let value = parameters[parameter.name] else {
                if parameter.required && isRequired(parameter) { throw .missing(name: parameter.name) }
                continue
            }
            try parameter.check(value)
        }
    }

    /// The API base URL for a connection with these parameters.
    ///
    /// `allowingHTTPHosts` lists hosts that may be reached over plain http (development only, API-5).
    public func apiBaseURL(
        with parameters: [String: String],
        allowingHTTPHosts: Set<String> = []
    ) throws(ConnectionParameterError) -> URL {
        try validateConnectionParameters(parameters)
        return try resolve(apiBaseURLTemplate, parameters, allowQuery: false, allowingHTTPHosts: allowingHTTPHosts)
    }

    /// The OAuth endpoints for a connection with these parameters; nil for a provider that is not OAuth 2.0.
    /// Parameters filled from the token response may be missing (they are unknown until the code is exchanged).
    public func oauth2Endpoints(
        with parameters: [String: String],
        allowingHTTPHosts: Set<String> = []
    ) throws(ConnectionParameterError) -> OAuth2Endpoints? {
        guard let settings = authentication.oauth2 else { return nil }
        try validateUserConnectionParameters(parameters)
        let revocationURL: URL? =
            if let revocation = settings.revocation {
                try resolve(revocation.url, parameters, allowQuery: true, allowingHTTPHosts: allowingHTTPHosts)
            } else {
                nil
            }
        return OAuth2Endpoints(
            authorizeURL: try resolve(settings.authorizeURL, parameters, allowQuery: true, allowingHTTPHosts: allowingHTTPHosts),
            tokenURL: try resolve(settings.tokenURL, parameters, allowQuery: true, allowingHTTPHosts: allowingHTTPHosts),
            revocationURL: revocationURL
        )
    }

    /// Substitutes validated parameters and re-checks the result, so a definition that slipped past
    /// validation still cannot produce a URL with another scheme, userinfo or fragment.
    private func resolve(
        _ template: URLTemplate,
        _ parameters: [String: String],
        allowQuery: Bool,
        allowingHTTPHosts: Set<String>
    ) throws(ConnectionParameterError) -> URL {
        // '_' passes the value alphabet but is not valid in a host name; say so against the parameter rather
        // than blaming the template.
        for name in template.hostParameterNames.sorted() {
            if let value = parameters[name], !URLSyntax.isDNSName(value.lowercased()) {
                throw .invalid(
                    name: name,
                    reason: "it is part of a host name, so it may only contain letters, digits and '-' (not at either end)"
                )
            }
        }
        let text: String
        switch template.substitute(parameters) {
        case .success(let substituted): text = substituted
        case .failure(.missing(let name)): throw .missing(name: name)
        case .failure(.malformed(let error)): throw .malformedTemplate(detail: error.description)
        }
        let problems = URLSyntax.problems(in: text, allowQuery: allowQuery, allowingHTTPHosts: allowingHTTPHosts)
        guard problems.isEmpty, let url = URL(string: text) else {
            throw .malformedTemplate(detail: "the resolved URL " + (problems.first ?? "does not parse"))
        }
        return url
    }
}
