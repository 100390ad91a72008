import Testing

@testable import SwitchyardWebhooks

@Suite("Credential words in header names")
struct UTF8SearchTests {
    @Test("a word is found at the start, the middle or the end of a name, and not where it is only partly there")
    func search() {
        #expect(UTF8Search.contains(Array("token".utf8), in: "token-id"))
        #expect(UTF8Search.contains(Array("token".utf8), in: "x-relay-token"))
        #expect(UTF8Search.contains(Array("hmac".utf8), in: "x-shopify-hmac-sha256"))
        #expect(!UTF8Search.contains(Array("token".utf8), in: "x-relay-toke"))
        #expect(!UTF8Search.contains(Array("secret".utf8), in: "sec"))
        #expect(!UTF8Search.contains(Array("signature".utf8), in: ""))
        #expect(UTF8Search.contains([], in: "anything"))
    }

    @Test("names carrying credentials are told apart from the rest")
    func names() {
        #expect(WebhookIngestor.carriesCredential("authorization"))
        #expect(WebhookIngestor.carriesCredential("x-hub-signature-256"))
        #expect(WebhookIngestor.carriesCredential("x-api-key"))
        #expect(!WebhookIngestor.carriesCredential("x-github-delivery"))
        #expect(!WebhookIngestor.carriesCredential("content-type"))
    }
}
