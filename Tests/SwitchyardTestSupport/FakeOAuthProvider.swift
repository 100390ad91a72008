import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// An OAuth 2.0 authorization server and API on a real loopback socket, strict the way real providers are,
/// so Switchyard's connect flow, refresh and revocation run unchanged against it.
///
/// - `GET /authorize` renders an approve page; `POST /authorize/decision` redirects back with a code (and `iss`).
/// - `POST /token` takes `authorization_code` (checking client authentication, redirect URI and the PKCE
///   verifier) and `refresh_token` grants; refresh tokens rotate when configured, and a used one is dead.
/// - `POST /revoke` (RFC 7009), `GET /api/me` (needs a live access token).
/// It counts every call, and can be told to fail the next token calls or to forget every grant.
public final class FakeOAuthProvider: Sendable {
    public struct Settings: Sendable {
        public var clientID = "fake-client-id"
        public var clientSecret = "fake-client-secret+/="
        public var accessTokenLifetime: Int = 3600
        public var rotateRefreshTokens = true
        /// Sent as `iss` in the authorization response (RFC 9207); nil sends none. Defaults to the base URL.
        public var issuerOverride: String?
        public var sendIssuer = true
        /// Time the token endpoint takes, to widen race windows.
        public var tokenDelay: Duration = .zero
        /// What `GET /api/resources` lists (ids of sites the token reaches).
        public var resources: [String] = ["site-1"]

        public init() {}
    }

    public struct Counters: Sendable, Equatable {
        public var authorizationCodeGrants = 0
        public var refreshGrants = 0
        public var revocations = 0
        public var apiCalls = 0
    }

    private struct Grant {
        var scopes: [String]
        var refreshToken: String
    }

    private struct PendingCode {
        var clientID: String
        var redirectURI: String
        var challenge: String?
        var scopes: [String]
        var expires: Date
    }

    private struct State {
        var settings: Settings
        var codes: [String: PendingCode] = [:]
        var accessTokens: [String: (expires: Date, scopes: [String])] = [:]
        var refreshTokens: [String: [String]] = [:]
        var counters = Counters()
        var failNextTokenCalls = 0
        var revocationStatus = 200
        var lastAuthorizationQuery: [String: String] = [:]
        var lastIssuedAccessToken: String?
    }

    private let state: Mutex<State>
    private let boundPort = Mutex(0)

    init(settings: Settings) {
        state = Mutex(State(settings: settings))
    }

    public var port: Int { boundPort.withLock { $0 } }
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var hostAndPort: String { "127.0.0.1:\(port)" }
    public var issuer: String { baseURL }
    public var counters: Counters { state.withLock { $0.counters } }
    public var settings: Settings { state.withLock { $0.settings } }
    /// The query of the last authorization request, as the provider saw it.
    public var lastAuthorizationQuery: [String: String] { state.withLock { $0.lastAuthorizationQuery } }

    public func update(_ change: (inout Settings) -> Void) { state.withLock { change(&$0.settings) } }
    /// The next `count` token requests answer 503.
    public func failNextTokenCalls(_ count: Int) { state.withLock { $0.failNextTokenCalls = count } }
    /// Every refresh token and access token stops working, as when the user revokes the app at the provider.
    public func forgetAllGrants() {
        state.withLock {
            $0.refreshTokens.removeAll()
            $0.accessTokens.removeAll()
        }
    }
    /// Every access token stops working while refresh tokens keep working, as when a provider revokes sessions
    /// after a password change.
    public func revokeAccessTokens() { state.withLock { $0.accessTokens.removeAll() } }
    /// The status `/revoke` answers (200 or 503).
    public func setRevocationStatus(_ status: Int) { state.withLock { $0.revocationStatus = status } }
    /// Whether `token` is a live refresh token.
    public func isLive(refreshToken token: String) -> Bool { state.withLock { $0.refreshTokens[token] != nil } }
    /// The access token the token endpoint issued last.
    public var lastIssuedAccessToken: String? { state.withLock { $0.lastIssuedAccessToken } }
    /// How many refresh tokens still work.
    public var liveRefreshTokenCount: Int { state.withLock { $0.refreshTokens.count } }
    /// Whether `token` is a live access token.
    public func isLive(accessToken token: String) -> Bool { state.withLock { $0.accessTokens[token].map { $0.expires > Date() } ?? false } }
    /// Whether the token endpoint issued `token` and nobody revoked it, expired or not.
    public func hasIssued(accessToken token: String) -> Bool { state.withLock { $0.accessTokens[token] != nil } }

    /// A custom provider definition for Switchyard pointing at this fake (`PUT /v1/providers/{id}`).
    public func providerJSON(
        id: String = "fake",
        pkce: String = "required",
        authMethod: String = "client_secret_basic",
        withIssuer: Bool = true
    ) -> String {
        """
        {"id":"\(id)","display_name":"Fake OAuth","auth_type":"oauth2","api_base_url":"\(baseURL)/api",
         "oauth2":{"authorize_url":"\(baseURL)/authorize","token_url":"\(baseURL)/token",
                   "revocation":{"url":"\(baseURL)/revoke","style":"rfc7009"},
                   "default_scopes":["profile","read"],"scope_separator":"space","pkce":"\(pkce)",
                   "token_endpoint_auth_method":"\(authMethod)","token_request_encoding":"form",
                   "extra_authorize_parameters":{"access_type":"offline"},"refresh_tokens_rotate":true\(withIssuer ? ",\"issuer\":\"\(issuer)\"" : "")}}
        """
    }

    /// The OAuth app for Switchyard (`PUT /v1/oauth-apps/{id}`).
    public var oauthAppJSON: String {
        let settings = self.settings
        return #"{"client_id":"\#(settings.clientID)","client_secret":"\#(settings.clientSecret.replacingOccurrences(of: "\\", with: "\\\\"))"}"#
    }

    /// Starts the fake on `port` of 127.0.0.1 (0 picks a free one), runs `body`, and shuts it down.
    public static func withRunning<Result: Sendable>(
        port: Int = 0,
        settings: Settings = Settings(),
        logger: Logger = Logger(label: "switchyard.tests.fake-oauth", factory: { _ in SwiftLogNoOpLogHandler() }),
        _ body: @Sendable (FakeOAuthProvider) async throws -> Result
    ) async throws -> Result {
        let provider = FakeOAuthProvider(settings: settings)
        return try await withLoopbackApplication(
            logger: logger,
            what: "the fake OAuth provider",
            make: { onServerRunning in
                Application(
                    router: provider.router(),
                    configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: "fake-oauth"),
                    onServerRunning: onServerRunning,
                    logger: logger
                )
            },
            { bound in
                provider.boundPort.withLock { $0 = bound }
                return try await body(provider)
            }
        )
    }

    // MARK: Routes

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("authorize") { request, _ in self.authorizePage(request) }
        router.post("authorize/decision") { request, _ in
            let form = Self.form(String(buffer: try await request.body.collect(upTo: 65536)))
            return self.decide(form)
        }
        router.post("token") { request, _ in
            let body = String(buffer: try await request.body.collect(upTo: 65536))
            return try await self.token(headers: request.headers, form: Self.form(body))
        }
        router.post("revoke") { request, _ in
            let body = String(buffer: try await request.body.collect(upTo: 65536))
            return self.revoke(headers: request.headers, form: Self.form(body))
        }
        router.get("api/me") { request, _ in self.me(request.headers) }
        router.get("api/resources") { request, _ in
            guard self.me(request.headers).status == .ok else { return Self.json(status: .unauthorized, ["error": "invalid_token"]) }
            let list = self.settings.resources.map { ["id": $0, "name": "Site \($0)"] }
            let data = (try? JSONSerialization.data(withJSONObject: list)) ?? Data()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        // For trying the flow by hand: what to register at Switchyard.
        router.get("switchyard/provider.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: self.providerJSON())))
        }
        router.get("switchyard/oauth-app.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: self.oauthAppJSON)))
        }
        return router
    }

    private func authorizePage(_ request: Request) -> Response {
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        state.withLock { $0.lastAuthorizationQuery = query }
        let settings = self.settings
        guard query["response_type"] == "code", query["client_id"] == settings.clientID, let redirect = query["redirect_uri"], !redirect.isEmpty
        else {
            return Self.page(status: .badRequest, "<h1>Invalid request</h1><p>Unknown client, missing redirect_uri or response_type.</p>")
        }
        if let method = query["code_challenge_method"], method != "S256" {
            return Self.page(status: .badRequest, "<h1>Invalid request</h1><p>Only S256 is accepted.</p>")
        }
        let hidden = ["client_id", "redirect_uri", "state", "scope", "code_challenge"].compactMap { name in
            query[name].map { "<input type=\"hidden\" name=\"\(name)\" value=\"\(Self.escape($0))\">" }
        }.joined(separator: "\n")
        let scopes = (query["scope"] ?? "").split(separator: " ").map { "<li><code>\(Self.escape(String($0)))</code></li>" }.joined()
        return Self.page(
            status: .ok,
            """
            <h1>Fake OAuth: allow access?</h1>
            <p>An app wants to access your Fake OAuth account with these permissions:</p>
            <ul>\(scopes)</ul>
            <form method="post" action="/authorize/decision">
            \(hidden)
            <button type="submit" name="decision" value="approve" id="approve">Approve</button>
            <button type="submit" name="decision" value="deny" id="deny">Deny</button>
            </form>
            """
        )
    }

    private func decide(_ form: [String: String]) -> Response {
        guard let redirect = form["redirect_uri"], form["client_id"] == settings.clientID else {
            return Self.page(status: .badRequest, "<h1>Invalid request</h1>")
        }
        var parameters: [(String, String)] = []
        if form["decision"] == "approve" {
            let code = "code-" + UUID().uuidString
            state.withLock {
                $0.codes[code] = PendingCode(
                    clientID: form["client_id"] ?? "",
                    redirectURI: redirect,
                    challenge: form["code_challenge"],
                    scopes: (form["scope"] ?? "").split(separator: " ").map(String.init),
                    expires: Date().addingTimeInterval(60)
                )
            }
            parameters.append(("code", code))
        } else {
            parameters += [("error", "access_denied"), ("error_description", "The user denied the request")]
        }
        if let value = form["state"] { parameters.append(("state", value)) }
        let settings = self.settings
        if settings.sendIssuer { parameters.append(("iss", settings.issuerOverride ?? issuer)) }
        var headers = HTTPFields()
        headers[.location] =
            redirect + (redirect.contains("?") ? "&" : "?") + parameters.map { "\(Self.percent($0.0))=\(Self.percent($0.1))" }.joined(separator: "&")
        return Response(status: .seeOther, headers: headers)
    }

    /// What `POST /authorize/decision` would answer for the approve (or deny) button: the redirect to Switchyard's callback.
    public func decide(authorizationURL: String, approve: Bool = true) throws -> String {
        guard let components = URLComponents(string: authorizationURL) else { throw TestFailure("not a URL: \(authorizationURL)") }
        var form: [String: String] = ["decision": approve ? "approve" : "deny"]
        for item in components.queryItems ?? [] { form[item.name] = item.value ?? "" }
        state.withLock { $0.lastAuthorizationQuery = form }
        let response = decide(form)
        guard let location = response.headers[.location] else { throw TestFailure("the fake refused the authorization request") }
        return location
    }

    private func token(headers: HTTPFields, form: [String: String]) async throws -> Response {
        let settings = self.settings
        if settings.tokenDelay > .zero { try await Task.sleep(for: settings.tokenDelay) }
        let failing = state.withLock { state -> Bool in
            guard state.failNextTokenCalls > 0 else { return false }
            state.failNextTokenCalls -= 1
            return true
        }
        if failing { return Self.json(status: .serviceUnavailable, ["error": "temporarily_unavailable"]) }
        guard authenticateClient(headers: headers, form: form, settings: settings) else {
            return Self.json(status: .unauthorized, ["error": "invalid_client"])
        }
        switch form["grant_type"] {
        case "authorization_code":
            return state.withLock { state in
                state.counters.authorizationCodeGrants += 1
                guard let code = form["code"], let pending = state.codes.removeValue(forKey: code), pending.expires > Date(),
                    pending.redirectURI == form["redirect_uri"]
                else {
                    return Self.json(
                        status: .badRequest,
                        ["error": "invalid_grant", "error_description": "unknown, used or expired code, or redirect_uri mismatch"]
                    )
                }
                if let challenge = pending.challenge {
                    guard let verifier = form["code_verifier"], Self.s256(verifier) == challenge else {
                        return Self.json(status: .badRequest, ["error": "invalid_grant", "error_description": "PKCE verification failed"])
                    }
                }
                return issue(&state, scopes: pending.scopes, refreshToken: nil)
            }
        case "refresh_token":
            return state.withLock { state in
                state.counters.refreshGrants += 1
                guard let token = form["refresh_token"], let scopes = state.refreshTokens[token] else {
                    return Self.json(status: .badRequest, ["error": "invalid_grant", "error_description": "refresh token revoked or already used"])
                }
                if state.settings.rotateRefreshTokens { state.refreshTokens.removeValue(forKey: token) }
                return issue(&state, scopes: scopes, refreshToken: state.settings.rotateRefreshTokens ? nil : token)
            }
        default:
            return Self.json(status: .badRequest, ["error": "unsupported_grant_type"])
        }
    }

    private func issue(_ state: inout State, scopes: [String], refreshToken reused: String?) -> Response {
        let access = "at-" + UUID().uuidString
        let refresh = reused ?? "rt-" + UUID().uuidString
        state.accessTokens[access] = (Date().addingTimeInterval(TimeInterval(state.settings.accessTokenLifetime)), scopes)
        state.refreshTokens[refresh] = scopes
        state.lastIssuedAccessToken = access
        var body: [String: Any] = [
            "access_token": access, "token_type": "Bearer", "expires_in": state.settings.accessTokenLifetime,
            "scope": scopes.joined(separator: " "), "account": ["id": "acct-42", "name": "Fake Account"],
        ]
        if reused == nil { body["refresh_token"] = refresh }
        return Self.json(status: .ok, body)
    }

    private func revoke(headers: HTTPFields, form: [String: String]) -> Response {
        let settings = self.settings
        guard authenticateClient(headers: headers, form: form, settings: settings) else {
            return Self.json(status: .unauthorized, ["error": "invalid_client"])
        }
        return state.withLock { state in
            state.counters.revocations += 1
            guard state.revocationStatus == 200 else { return Response(status: .init(code: state.revocationStatus)) }
            if let token = form["token"] {
                state.refreshTokens.removeValue(forKey: token)
                state.accessTokens.removeValue(forKey: token)
            }
            return Response(status: .ok)
        }
    }

    private func me(_ headers: HTTPFields) -> Response {
        state.withLock { state in
            state.counters.apiCalls += 1
            guard let header = headers[.authorization], header.hasPrefix("Bearer "),
                let token = state.accessTokens[String(header.dropFirst(7))], token.expires > Date()
            else { return Self.json(status: .unauthorized, ["error": "invalid_token"]) }
            return Self.json(status: .ok, ["id": "user-1", "name": "Fake User", "scopes": token.scopes])
        }
    }

    /// client_secret_basic (RFC 6749 §2.3.1: each part form-encoded) or client_secret_post.
    private func authenticateClient(headers: HTTPFields, form: [String: String], settings: Settings) -> Bool {
        if let header = headers[.authorization], header.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) })
        {
            let parts = decoded.split(separator: ":", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
            return parts.count == 2 && parts[0] == settings.clientID && parts[1] == settings.clientSecret
        }
        return form["client_id"] == settings.clientID && form["client_secret"] == settings.clientSecret
    }

    // MARK: Encoding

    static func s256(_ verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func form(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: Substring) in part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }

    static func percent(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        ) ?? text
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func json(status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    static func page(status: HTTPResponse.Status, _ body: String) -> Response {
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fake OAuth</title>
            <style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}button{font:inherit;padding:.6rem 1.2rem;margin-right:.5rem}</style>
            </head><body>\(body)</body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
