import Foundation
import SwitchyardCore
import SwitchyardWebhooks
import Testing

/// Where each provider names the account an event belongs to (for events at an endpoint shared by many accounts),
/// and a stored scheme that does not decode.
@Suite("Webhook schemes: the account an event belongs to")
struct WebhookAccountTests {
    static func json(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    @Test("each provider's account is read where that provider puts it")
    func accounts() throws {
        #expect(WebhookScheme.stripe(toleranceSeconds: 300).accountID(in: try Self.json(#"{"account":"acct_1"}"#), headers: [:]) == "acct_1")
        #expect(WebhookScheme.slack(toleranceSeconds: 300).accountID(in: try Self.json(#"{"team_id":"T1"}"#), headers: [:]) == "T1")
        #expect(WebhookScheme.slack(toleranceSeconds: 300).accountID(in: try Self.json(#"{"team":{"id":"T2"}}"#), headers: [:]) == "T2")
        #expect(WebhookScheme.github.accountID(in: try Self.json(#"{"installation":{"id":42}}"#), headers: [:]) == "42")
        #expect(WebhookScheme.shopify.accountID(in: nil, headers: ["x-shopify-shop-domain": "acme.myshopify.com"]) == "acme.myshopify.com")
        #expect(WebhookScheme.standardWebhooks(toleranceSeconds: 300).accountID(in: try Self.json(#"{"account_id":"a-9"}"#), headers: [:]) == "a-9")
        #expect(WebhookScheme.github.accountID(in: try Self.json(#"{"account":"acct_1"}"#), headers: [:]) == nil)
        #expect(WebhookScheme.stripe(toleranceSeconds: 300).accountID(in: nil, headers: [:]) == nil)
    }

    @Test("a stored scheme that does not decode is an internal error naming its source")
    func corruptScheme() throws {
        let source = UUID()
        do {
            _ = try WebhookScheme.stored(#"{"type":"carrier-pigeon"}"#, source: source)
            Issue.record("a scheme of an unknown type decoded")
        } catch let error as SwitchyardError {
            #expect(error.reason?.contains(source.lowercasedString) == true)
            #expect(error.code == SwitchyardError.internalError.code)
        }
    }
}
