import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardTestSupport
import Testing

/// Webhook sources and signed deliveries made through the API, as a provider would send them.
enum WebhookFixture {
    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func hmacHex(_ secret: String, _ content: String) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Data(content.utf8), using: SymmetricKey(data: Data(secret.utf8))))
    }

    /// A GitHub-scheme source with a known secret; returns its id and secret.
    static func makeSource(
        _ client: any TestClientProtocol,
        key: String,
        scheme: String = #"{"type":"github"}"#,
        secret: String = "It's a Secret to Everybody"
    ) async throws -> (id: String, secret: String) {
        let created = try await client.request(
            .post,
            "/v1/webhook-sources",
            key: key,
            json: #"{"name":"source","scheme":\#(scheme),"secret":"\#(secret)"}"#
        )
        guard created.status == .created, let id = try created.jsonObject()["id"] as? String else {
            throw TestFailure("creating a webhook source answered \(created.status): \(created.text)")
        }
        return (id, secret)
    }

    /// A GitHub delivery signed with `secret` (the way GitHub signs: sha256= HMAC of the raw body).
    static func deliverGitHub(
        _ client: any TestClientProtocol,
        source: String,
        secret: String,
        deliveryID: String,
        body: String = #"{"action":"opened","number":1}"#,
        signatureBody: String? = nil,
        extraHeaders: [String: String] = [:]
    ) async throws -> TestResponse {
        var headers: HTTPFields = [
            .contentType: "application/json",
            HTTPField.Name("X-GitHub-Delivery")!: deliveryID,
            HTTPField.Name("X-GitHub-Event")!: "pull_request",
            HTTPField.Name("X-Hub-Signature-256")!: "sha256=" + hmacHex(secret, signatureBody ?? body),
        ]
        for (name, value) in extraHeaders { headers[HTTPField.Name(name)!] = value }
        return try await client.execute(uri: "/webhooks/\(source)", method: .post, headers: headers, body: .init(string: body))
    }

    /// A Stripe delivery: `Stripe-Signature: t=..,v1=..` over `t.body`.
    static func deliverStripe(
        _ client: any TestClientProtocol,
        source: String,
        secrets: [String],
        eventID: String,
        timestamp: Int = Int(Date().timeIntervalSince1970)
    ) async throws -> TestResponse {
        let body = #"{"id":"\#(eventID)","type":"invoice.paid","data":{"object":{"amount":4200}}}"#
        let signatures = secrets.map { "v1=" + hmacHex($0, "\(timestamp).\(body)") }.joined(separator: ",")
        let headers: HTTPFields = [.contentType: "application/json", HTTPField.Name("Stripe-Signature")!: "t=\(timestamp),\(signatures)"]
        return try await client.execute(uri: "/webhooks/\(source)", method: .post, headers: headers, body: .init(string: body))
    }
}
