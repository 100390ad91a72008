import Crypto
import Foundation
import SwitchyardWebhooks
import Testing

/// Signatures made the way each provider makes them, checked by the verifier alone (no database).
@Suite("Webhook signature verification (WH-1..WH-5)")
struct WebhookVerificationTests {
    static let now = Date(timeIntervalSince1970: 1_700_000_000)

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    static func hmac(_ secret: String, _ content: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data(content.utf8), using: SymmetricKey(data: Data(secret.utf8))))
    }

    @Test("GitHub: the published vector verifies; the delivery id and event come from the headers")
    func githubVector() throws {
        let verifier = WebhookVerifier(scheme: .github)
        let headers = [
            "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "x-github-event": "push",
        ]
        let delivery = try verifier.verify(body: Array("Hello, World!".utf8), headers: headers, secrets: ["It's a Secret to Everybody"])
        #expect(delivery.eventID == "72d3162e-cc78-11e3-81ab-4c9367dc0958")
        #expect(delivery.eventType == "push")
        #expect(throws: WebhookRejection.invalidSignature) {
            try verifier.verify(body: Array("Hello, World?".utf8), headers: headers, secrets: ["It's a Secret to Everybody"])
        }
        #expect(throws: WebhookRejection.invalidSignature) {
            try verifier.verify(body: Array("Hello, World!".utf8), headers: headers, secrets: ["another tenant's secret"])
        }
        #expect(throws: WebhookRejection.missingSignature) {
            try verifier.verify(body: Array("Hello, World!".utf8), headers: [:], secrets: ["It's a Secret to Everybody"])
        }
    }

    @Test("Stripe: t and v1 over t.body, any v1 may match, 300 s either way")
    func stripe() throws {
        let verifier = WebhookVerifier(scheme: .stripe(toleranceSeconds: 300))
        let body = #"{"id":"evt_1","type":"invoice.paid"}"#
        func header(_ t: Int, _ secret: String, extra: String = "") -> [String: String] {
            ["stripe-signature": "t=\(t),v1=\(Self.hex(Self.hmac(secret, "\(t).\(body)")))\(extra)"]
        }
        let t = Int(Self.now.timeIntervalSince1970)
        let delivery = try verifier.verify(body: Array(body.utf8), headers: header(t, "whsec_new"), secrets: ["whsec_new"], now: Self.now)
        #expect(delivery.eventID == "evt_1")
        #expect(delivery.eventType == "invoice.paid")
        // Rotation: the old secret is still active, and a header may carry several v1 signatures.
        _ = try verifier.verify(body: Array(body.utf8), headers: header(t, "whsec_old"), secrets: ["whsec_new", "whsec_old"], now: Self.now)
        _ = try verifier.verify(body: Array(body.utf8), headers: header(t, "whsec_new", extra: ",v1=00ff"), secrets: ["whsec_new"], now: Self.now)
        #expect(throws: WebhookRejection.staleTimestamp) {
            try verifier.verify(body: Array(body.utf8), headers: header(t - 301, "whsec_new"), secrets: ["whsec_new"], now: Self.now)
        }
        #expect(throws: WebhookRejection.futureTimestamp) {
            try verifier.verify(body: Array(body.utf8), headers: header(t + 301, "whsec_new"), secrets: ["whsec_new"], now: Self.now)
        }
        var flipped = Array(body.utf8)
        flipped[10] ^= 0x01
        #expect(throws: WebhookRejection.invalidSignature) {
            try verifier.verify(body: flipped, headers: header(t, "whsec_new"), secrets: ["whsec_new"], now: Self.now)
        }
    }

    @Test("Slack: v0 over v0:ts:body; url_verification is answered with its challenge")
    func slack() throws {
        let verifier = WebhookVerifier(scheme: .slack(toleranceSeconds: 300))
        let t = String(Int(Self.now.timeIntervalSince1970))
        func headers(_ body: String) -> [String: String] {
            ["x-slack-request-timestamp": t, "x-slack-signature": "v0=" + Self.hex(Self.hmac("slack-secret", "v0:\(t):\(body)"))]
        }
        let event = #"{"type":"event_callback","event_id":"Ev123","event":{"type":"message"}}"#
        let delivery = try verifier.verify(body: Array(event.utf8), headers: headers(event), secrets: ["slack-secret"], now: Self.now)
        #expect(delivery.eventID == "Ev123" && delivery.eventType == "message" && delivery.challenge == nil)
        let handshake = #"{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#
        let answered = try verifier.verify(body: Array(handshake.utf8), headers: headers(handshake), secrets: ["slack-secret"], now: Self.now)
        #expect(answered.challenge == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    }

    @Test("Shopify: base64 HMAC of the body; id and topic from the headers")
    func shopify() throws {
        let body = #"{"id":820982911946154508}"#
        let headers = [
            "x-shopify-hmac-sha256": Data(Self.hmac("shpss_secret", body)).base64EncodedString(),
            "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "x-shopify-topic": "orders/create",
        ]
        let delivery = try WebhookVerifier(scheme: .shopify).verify(body: Array(body.utf8), headers: headers, secrets: ["shpss_secret"])
        #expect(delivery.eventID == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043" && delivery.eventType == "orders/create")
    }

    @Test("Standard Webhooks: the specification's example verifies; space-separated signatures rotate")
    func standardWebhooks() throws {
        let verifier = WebhookVerifier(scheme: .standardWebhooks(toleranceSeconds: 300))
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let body = #"{"test": 2432232314}"#
        let headers = [
            "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
            "webhook-signature": "v1,bm9ldHUjKzFob2VudXRob2VodWUzMjRvdWVvdW9ldQo= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ]
        let delivery = try verifier.verify(
            body: Array(body.utf8),
            headers: headers,
            secrets: [secret],
            now: Date(timeIntervalSince1970: 1_614_265_330)
        )
        #expect(delivery.eventID == "msg_p5jXN8AQM9LWM0D4loKWxJek")
        #expect(throws: WebhookRejection.staleTimestamp) {
            try verifier.verify(body: Array(body.utf8), headers: headers, secrets: [secret], now: Date(timeIntervalSince1970: 1_614_265_331 + 300))
        }
        #expect(StandardWebhooksSecret.generate().hasPrefix("whsec_"))

        // Svix's header names for the same scheme verify too (issue 12, item 7); the families never mix.
        let svix = [
            "svix-id": headers["webhook-id"]!, "svix-timestamp": headers["webhook-timestamp"]!, "svix-signature": headers["webhook-signature"]!,
        ]
        let viaSvix = try verifier.verify(body: Array(body.utf8), headers: svix, secrets: [secret], now: Date(timeIntervalSince1970: 1_614_265_330))
        #expect(viaSvix.eventID == "msg_p5jXN8AQM9LWM0D4loKWxJek")
        var mixed = svix
        mixed["webhook-signature"] = "v1,AAAA"
        #expect(throws: WebhookRejection.self) {
            try verifier.verify(body: Array(body.utf8), headers: mixed, secrets: [secret], now: Date(timeIntervalSince1970: 1_614_265_330))
        }
    }

    @Test("Generic HMAC: hash, encoding, prefix and signed content as configured; no event id header means a body digest")
    func genericHMAC() throws {
        let t = String(Int(Self.now.timeIntervalSince1970))
        let body = #"{"hello":"world"}"#
        let sha512 = GenericHMAC(
            header: "X-Signature",
            algorithm: .sha512,
            encoding: .base64,
            prefix: "sha512=",
            signedContent: .timestampDotBody,
            timestampHeader: "X-Timestamp",
            toleranceSeconds: 60,
            eventTypeHeader: "X-Event"
        )
        let mac = HMAC<SHA512>.authenticationCode(for: Data("\(t).\(body)".utf8), using: SymmetricKey(data: Data("k".utf8)))
        let delivery = try WebhookVerifier(scheme: .hmac(sha512)).verify(
            body: Array(body.utf8),
            headers: ["x-signature": "sha512=" + Data(mac).base64EncodedString(), "x-timestamp": t, "x-event": "greeting"],
            secrets: ["k"],
            now: Self.now
        )
        #expect(delivery.eventType == "greeting")
        #expect(delivery.eventID == "sha256:" + Self.hex(SHA256.hash(data: Data(body.utf8))))
        let sha1 = GenericHMAC(header: "X-Sig", algorithm: .sha1, encoding: .hex)
        let mac1 = HMAC<Insecure.SHA1>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data("k".utf8)))
        _ = try WebhookVerifier(scheme: .hmac(sha1)).verify(body: Array(body.utf8), headers: ["x-sig": Self.hex(mac1)], secrets: ["k"])
        #expect(throws: WebhookRejection.noSecret) {
            try WebhookVerifier(scheme: .hmac(sha1)).verify(body: [], headers: ["x-sig": "00"], secrets: [])
        }
    }
}
