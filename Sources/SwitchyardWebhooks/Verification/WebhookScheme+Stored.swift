import Foundation
import SwitchyardCore

extension WebhookScheme {
    /// The scheme a `webhook_sources` row stores as JSON; one that does not decode is an internal error naming the
    /// source, never a default.
    public static func stored(_ json: String, source id: UUID, fileID: String = #fileID, line: Int = #line) throws -> WebhookScheme {
        do {
            return try JSONDecoder().decode(WebhookScheme.self, from: Data(json.utf8))
        } catch {
            throw SwitchyardError.internal(
                "webhook_sources row \(id.lowercasedString) holds a scheme that does not decode: \(error)",
                fileID: fileID,
                line: line
            )
        }
    }

    /// Where the provider behind this scheme names the account an event belongs to, for providers that deliver many
    /// accounts' events to one endpoint (matched against an integration's `provider_account_id`).
    public func accountID(in payload: JSONValue?, headers: [String: String]) -> String? {
        func field(_ path: String...) -> String? {
            var value = payload
            for key in path {
                guard case .object(let object)? = value else { return nil }
                value = object[key]
            }
            return value?.text
        }
        switch self {
        case .stripe: return field("account")
        case .slack: return field("team_id") ?? field("team", "id")
        case .github: return field("installation", "id")
        case .shopify: return headers["x-shopify-shop-domain"]
        case .standardWebhooks, .hmac: return field("account_id")
        }
    }
}
