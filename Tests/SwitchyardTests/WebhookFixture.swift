import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardTestSupport
import Testing

/// Webhook sources and signed deliveries made through the API, as a provider would send them.
enum WebhookFixture {
    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func hmacHex(_ secret: String, _ content: String) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Data(content.utf8), using: SymmetricKey(data: Data(secret.utf8))))
    }

    static let github = Components.Schemas.WebhookScheme.github(.init(_type: .github))
    static let slack = Components.Schemas.WebhookScheme.slack(.init(_type: .slack))

    static func stripe(toleranceSeconds: Int? = nil) -> Components.Schemas.WebhookScheme {
        .stripe(.init(_type: .stripe, toleranceSeconds: toleranceSeconds))
    }

    /// A source with a known secret (GitHub's scheme unless told), made through the generated client; returns its id
    /// and secret.
    static func makeSource(
        _ client: any TestClientProtocol,
        key: String,
        scheme: Components.Schemas.WebhookScheme = github,
        secret: String = "It's a Secret to Everybody"
    ) async throws -> (id: String, secret: String) {
        let created = try await client.api(key: key).createWebhookSource(body: .json(.init(name: "source", scheme: scheme, secret: secret)))
        return (try created.created.body.json.id, secret)
    }

    /// The answer to an accepted delivery (`recorded` with the event's id, or `duplicate`), decoded by its schema in
    /// the document. Deliveries themselves are posted raw, as a provider sends them.
    typealias Receipt = Operations.ReceiveWebhook.Output.Ok.Body.JsonPayload.Case1Payload

    static func receipt(_ response: TestResponse) throws -> Receipt {
        try JSONDecoder().decode(Receipt.self, from: Data(response.body.readableBytesView))
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

extension ProblemDetailsTests {
    /// The checks of `expectProblem` on a response, for a problem the generated client decoded (which has checked its
    /// media type, `application/problem+json`, and its shape).
    static func expectProblem(
        _ problem: Components.Schemas.Problem,
        requestID: String,
        _ status: HTTPResponse.Status,
        code: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(problem.status == status.code, sourceLocation: sourceLocation)
        #expect(problem._type == "https://switchyard.dev/problems/\(code)", sourceLocation: sourceLocation)
        #expect(problem.title == status.reasonPhrase, sourceLocation: sourceLocation)
        #expect(problem.detail?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(problem.instance == requestID, sourceLocation: sourceLocation)
    }
}
