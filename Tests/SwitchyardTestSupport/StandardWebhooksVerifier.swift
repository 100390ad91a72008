import Crypto
import Foundation

/// A receiver's check of a Standard Webhooks delivery, written from the specification
/// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md) apart from the
/// platform's signer, so that a test catches a signer that only agrees with itself.
public enum StandardWebhooksVerifier {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Verifies `body` as received with `id`, `timestamp` and `signatureHeader` against `secret` (`whsec_...`), with
    /// the spec's five minutes of tolerance around `now`.
    public static func verify(
        secret: String,
        id: String?,
        timestamp: String?,
        signatureHeader: String?,
        body: String,
        now: Date = Date()
    ) throws {
        guard let id, let timestamp, let signatureHeader else { throw Failure(description: "a webhook-* header is missing") }
        guard let seconds = Int64(timestamp) else { throw Failure(description: "webhook-timestamp is not an integer") }
        guard abs(now.timeIntervalSince1970 - Double(seconds)) <= 300 else { throw Failure(description: "the timestamp is too far from now") }
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))) else {
            throw Failure(description: "the secret is not whsec_<base64>")
        }
        let content = Data("\(id).\(timestamp).\(body)".utf8)
        let expected = Data(HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: key)))
        for candidate in signatureHeader.split(separator: " ") {
            let parts = candidate.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let signature = Data(base64Encoded: String(parts[1])) else { continue }
            if signature == expected { return }
        }
        throw Failure(description: "no signature matches")
    }
}
