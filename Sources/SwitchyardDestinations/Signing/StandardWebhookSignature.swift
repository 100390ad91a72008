import Crypto
import Foundation

/// Signs a delivery the Standard Webhooks way (https://www.standardwebhooks.com): the `webhook-signature` header holds
/// `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, once per secret, space-separated, so a
/// receiver that has either the old or the new secret during a rotation verifies the delivery.
public enum StandardWebhookSignature {
    /// The `webhook-signature` header value for `body` sent as message `id` at `timestamp` (Unix seconds).
    public static func header(id: String, timestamp: Int64, body: some Collection<UInt8>, secrets: [StandardWebhookSecret]) -> String {
        secrets.map { "v1," + sign(id: id, timestamp: timestamp, body: body, key: $0.key) }.joined(separator: " ")
    }

    /// The base64 signature of one secret.
    public static func sign(id: String, timestamp: Int64, body: some Collection<UInt8>, key: [UInt8]) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: key))
        mac.update(data: Array("\(id).\(timestamp).".utf8))
        mac.update(data: Array(body))
        return Data(mac.finalize()).base64EncodedString()
    }
}
