import Foundation
import HTTPTypes
import Hummingbird
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres

/// `GET /oauth/callback`: where every provider sends the end user back (the one registered redirect URI).
struct OAuthCallbackController: Sendable {
    let oauth: OAuthServices

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("oauth/callback", use: callback)
    }

    @Sendable func callback(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let callback = OAuthConnector.Callback(
            state: query["state"].map(String.init),
            code: query["code"].map(String.init),
            error: query["error"].map(String.init),
            errorDescription: query["error_description"].map(String.init),
            issuer: query["iss"].map(String.init),
            browserCookies: Self.bindingCookies(in: request.headers)
        )
        do {
            let connected = try await oauth.connector.complete(callback, logger: context.logger)
            if let returnTo = connected.returnTo {
                return Self.redirect(to: returnTo, adding: [("integration_id", connected.integration.id.lowercasedString), ("status", "connected")])
            }
            return ConnectPages.success(providerName: connected.providerName).response
        } catch {
            if let returnTo = error.returnTo {
                return Self.redirect(to: returnTo, adding: [("error", error.reason.rawValue)])
            }
            return ConnectPages.failure(title: error.title, detail: error.detail, status: error.httpStatus).response
        }
    }

    /// Values of the browser-binding cookies the request carries.
    static func bindingCookies(in headers: HTTPFields) -> [String] {
        headers[values: .cookie].flatMap { $0.split(separator: ";") }.compactMap { pair in
            let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].hasPrefix(ConnectPageController.bindingCookiePrefix) else { return nil }
            return String(parts[1])
        }
    }

    /// `returnTo` (already checked against the tenant's origins) with `parameters` appended to its query.
    static func redirect(to returnTo: String, adding parameters: [(String, String)]) -> Response {
        let separator = returnTo.contains("?") ? "&" : "?"
        var headers = HTTPFields()
        headers[.location] = returnTo + separator + FormEncoding.encode(parameters)
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: .seeOther, headers: headers)
    }
}
