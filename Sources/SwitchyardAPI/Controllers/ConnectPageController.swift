import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardProviders

/// `/connect/{token}`: the page an end user opens from a connect session's link. Public: the token is the credential.
struct ConnectPageController: Sendable {
    let database: Database
    let oauth: OAuthServices

    /// Cookies binding an authorization request to the browser that started it are named with this prefix
    /// and a random suffix, so several flows in one browser do not overwrite each other.
    static let bindingCookiePrefix = "sy_oauth_"
    static let maxFormBytes = 16 * 1024

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("connect/{token}", use: show)
        router.post("connect/{token}", use: start)
    }

    /// Shows the chooser, or goes straight to the provider when there is nothing to choose or fill in.
    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (token, session, providers) = try await openSession(context) else { return ConnectPages.unusableLink().response }
        if providers.count == 1, providers[0].userConnectionParameters.allSatisfy({ session.connectionParameters[$0.name] != nil }) {
            return try await redirectToProvider(
                providers[0],
                session: session,
                parameters: session.connectionParameters,
                token: token,
                context: context
            )
        }
        return ConnectPages.chooser(token: token, session: session, providers: providers).response
    }

    /// The chooser's form: a provider and its parameters.
    @Sendable func start(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (token, session, providers) = try await openSession(context) else { return ConnectPages.unusableLink().response }
        let body = try await request.body.collect(upTo: Self.maxFormBytes)
        let form = FormEncoding.decode(String(buffer: body))
        guard let provider = providers.first(where: { $0.id == form["provider"] }) else {
            return ConnectPages.chooser(token: token, session: session, providers: providers, error: "Choose one of the services below.").response
        }
        var parameters = session.connectionParameters
        for parameter in provider.userConnectionParameters where parameters[parameter.name] == nil {
            let value = form["parameter.\(parameter.name)"]?.trimmingCharacters(in: .whitespaces) ?? ""
            if !value.isEmpty { parameters[parameter.name] = value }
        }
        do {
            try provider.validateUserConnectionParameters(parameters)
        } catch {
            return ConnectPages.chooser(token: token, session: session, providers: providers, error: error.description).response
        }
        return try await redirectToProvider(provider, session: session, parameters: parameters, token: token, context: context)
    }

    private func redirectToProvider(
        _ provider: ProviderDefinition,
        session: ConnectSessionRecord,
        parameters: [String: String],
        token: String,
        context: AppRequestContext
    ) async throws -> Response {
        let cookie = OpaqueToken.generate()
        let authorization: (url: String, expiresAt: Date)
        do {
            authorization = try await oauth.connector.authorizationURL(
                for: OAuthConnector.Request(
                    provider: provider.id,
                    integrationID: session.integrationID,
                    sessionID: session.id,
                    extraScopes: session.extraScopes,
                    connectionParameters: parameters,
                    endUserID: session.endUserID,
                    tags: session.tags,
                    returnTo: session.returnTo,
                    browserCookie: cookie
                ),
                tenant: session.tenantID,
                logger: context.logger
            )
        } catch let error as SwitchyardError where error.kind != .internal && error.kind != .unavailable {
            return ConnectPages.failure(title: "\(provider.displayName) cannot be connected right now", detail: error.detail, status: 409).response
        }
        var headers = HTTPFields()
        headers[.location] = authorization.url
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        let secure = oauth.publicBaseURL.hasPrefix("https://") ? "; Secure" : ""
        let name = Self.bindingCookiePrefix + String(OpaqueToken.generate().value.prefix(10))
        // Lax: sent on the provider's top-level redirect back to /oauth/callback, not on cross-site subrequests.
        headers[.setCookie] =
            "\(name)=\(cookie.value); Path=/oauth/callback; Max-Age=\(oauth.settings.stateTTLSeconds); HttpOnly; SameSite=Lax\(secure)"
        return Response(status: .seeOther, headers: headers)
    }

    /// The open session behind the path's token, with the providers it allows; nil when the link is unusable.
    private func openSession(_ context: AppRequestContext) async throws -> (String, ConnectSessionRecord, [ProviderDefinition])? {
        guard let token = context.parameters.get("token"), token.hasPrefix("cs_"), token.utf8.count < 100 else { return nil }
        let hash = OpaqueToken(value: token).hash
        guard let tenant = try await database.withOperator(logger: context.logger, { try await $0.connectSessionTenant(tokenHash: hash) }) else {
            return nil
        }
        return try await database.withTenant(tenant, logger: context.logger) { transaction in
            guard let session = try await transaction.connectSession(tokenHash: hash), session.isOpen() else { return nil }
            var providers: [ProviderDefinition] = []
            for id in session.allowedProviders {
                if let provider = try await oauth.directory.provider(id, in: transaction), provider.authentication.oauth2 != nil {
                    providers.append(provider)
                }
            }
            return providers.isEmpty ? nil : (token, session, providers)
        }
    }
}
