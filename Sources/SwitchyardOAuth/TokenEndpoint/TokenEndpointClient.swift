import Foundation
import HTTPTypes
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardProviders

/// Calls a provider's token and revocation endpoints through the outbound client (SSRF guard, breaker,
/// rate limits). Nothing here logs a token, a code or a client secret.
public struct TokenEndpointClient: Sendable {
    let outbound: OutboundClient

    /// 5xx and 429 are retried a few times with jittered backoff (REQUIREMENTS OA-7), and so is a lost
    /// answer: repeating a code or refresh-token grant is no worse than giving up, since a grant the
    /// provider already used fails either way.
    static let retry = RetryPolicy(
        maxAttempts: 3,
        baseDelay: .milliseconds(200),
        maxBackoff: .seconds(2),
        maxTotalDelay: .seconds(5),
        retryNonIdempotent: true
    )

    public init(outbound: OutboundClient) {
        self.outbound = outbound
    }

    /// Who the call is for: the metrics label and the rate-limit and breaker key.
    public struct Caller: Sendable {
        public var providerLabel: String
        public var key: String

        public init(providerLabel: String, key: String) {
            self.providerLabel = providerLabel
            self.key = key
        }
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3, with the PKCE verifier of RFC 7636 §4.5).
    public func exchange(
        code: String,
        redirectURI: String,
        codeVerifier: String?,
        requestedScopes: [String],
        client: OAuthClientCredentials,
        settings: OAuth2Settings,
        tokenURL: URL,
        caller: Caller,
        logger: Logger
    ) async throws(TokenEndpointError) -> TokenGrant {
        var parameters = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI)]
        if let codeVerifier { parameters.append(("code_verifier", codeVerifier)) }
        // Basic authentication names the client already; sending client_id too is harmless and some providers need it.
        if settings.tokenEndpointAuthMethod == .clientSecretBasic { parameters.append(("client_id", client.clientID)) }
        let data = try await post(parameters, to: tokenURL, client: client, settings: settings, caller: caller, logger: logger)
        return try TokenGrant.parse(data, scopeSeparator: settings.scopeSeparator.separator, requestedScopes: requestedScopes)
    }

    /// Uses a refresh token (RFC 6749 §6). The grant keeps the previous refresh token when the provider sends no new one.
    public func refresh(
        _ tokens: OAuthTokens,
        refreshToken: String,
        client: OAuthClientCredentials,
        settings: OAuth2Settings,
        tokenURL: URL,
        caller: Caller,
        logger: Logger
    ) async throws(TokenEndpointError) -> TokenGrant {
        let parameters = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        let data = try await post(parameters, to: tokenURL, client: client, settings: settings, caller: caller, logger: logger)
        return try TokenGrant.parse(data, scopeSeparator: settings.scopeSeparator.separator, requestedScopes: tokens.scopes, previous: tokens)
    }

    /// Revokes a token (RFC 7009 §2.1, or the bearer style some providers use). Returns normally when the
    /// provider confirmed; throws `unavailable` when it asked to retry later (503) or could not be reached.
    public func revoke(
        _ tokens: OAuthTokens,
        revocation: TokenRevocation,
        url: URL,
        client: OAuthClientCredentials,
        settings: OAuth2Settings,
        caller: Caller,
        logger: Logger
    ) async throws(TokenEndpointError) {
        switch revocation.style {
        case .rfc7009:
            // Revoking the refresh token revokes its access tokens too (§2.1) where there is one.
            let (token, hint) = tokens.refreshToken.map { ($0, "refresh_token") } ?? (tokens.accessToken, "access_token")
            _ = try await post(
                [("token", token), ("token_type_hint", hint)],
                to: url,
                client: client,
                settings: settings,
                caller: caller,
                logger: logger
            )
        case .bearer:
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(tokens.accessToken)"
            _ = try await send(
                OutboundRequest(
                    method: .post,
                    url: url.absoluteString,
                    headers: headers,
                    provider: caller.providerLabel,
                    key: caller.key,
                    retry: Self.retry
                ),
                logger: logger
            )
        }
    }

    private func post(
        _ parameters: [(String, String)],
        to url: URL,
        client: OAuthClientCredentials,
        settings: OAuth2Settings,
        caller: Caller,
        logger: Logger
    ) async throws(TokenEndpointError) -> Data {
        let body = ClientAuthenticatedBody(parameters, client: client, settings: settings)
        return try await send(
            OutboundRequest(
                method: .post,
                url: url.absoluteString,
                headers: body.headers,
                body: body.body,
                provider: caller.providerLabel,
                key: caller.key,
                retry: Self.retry
            ),
            logger: logger
        )
    }

    private func send(_ request: OutboundRequest, logger: Logger) async throws(TokenEndpointError) -> Data {
        let response: OutboundResponse
        do {
            response = try await outbound.send(request, logger: logger)
        } catch let error as OutboundError {
            throw .unavailable(reason: error.description)
        } catch {
            throw .unavailable(reason: "the request was cancelled")
        }
        let data = Data(response.body.readableBytesView)
        switch response.status.code {
        case 200..<300:
            return data
        case 408, 425, 429, 500...:
            throw .unavailable(reason: "HTTP \(response.status.code)")
        default:
            guard let (error, description) = TokenGrant.error(in: data) else {
                throw .rejected(error: "HTTP \(response.status.code)", description: nil, status: response.status.code)
            }
            let shown = TokenEndpointError.printable(description)
            if error == "invalid_grant" { throw .invalidGrant(description: shown) }
            throw .rejected(error: TokenEndpointError.printable(error, limit: 64) ?? "error", description: shown, status: response.status.code)
        }
    }
}
