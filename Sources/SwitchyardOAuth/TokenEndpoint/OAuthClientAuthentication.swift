import Foundation
import HTTPTypes
import NIOCore
import SwitchyardPostgres
import SwitchyardProviders

/// A request body for the token or revocation endpoint with the client authenticated the provider's way
/// (RFC 6749 §2.3.1), in the provider's encoding.
struct ClientAuthenticatedBody {
    let headers: HTTPFields
    let body: ByteBuffer

    init(_ parameters: [(String, String)], client: OAuthClientCredentials, settings: OAuth2Settings) {
        var parameters = parameters
        var headers = HTTPFields()
        switch settings.tokenEndpointAuthMethod {
        case .clientSecretBasic:
            // §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
            let pair = FormEncoding.escape(client.clientID) + ":" + FormEncoding.escape(client.clientSecret)
            headers[.authorization] = "Basic " + Data(pair.utf8).base64EncodedString()
        case .clientSecretPost:
            parameters += [("client_id", client.clientID), ("client_secret", client.clientSecret)]
        }
        headers[.accept] = "application/json"
        switch settings.tokenRequestEncoding {
        case .form:
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: FormEncoding.encode(parameters))
        case .json:
            headers[.contentType] = "application/json"
            let object = Dictionary(parameters, uniquingKeysWith: { _, last in last })
            body = ByteBuffer(bytes: (try? JSONEncoder().encode(object)) ?? Data("{}".utf8))
        }
        self.headers = headers
    }
}
