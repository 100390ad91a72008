import Crypto
import Foundation

/// Signs a delivery the Standard Webhooks way (https://www.standardwebhooks.com): the `webhook-signature` header holds
/// `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, once per secret, space-separated, so a
/// receiver that has either the old or the new secret during a rotation verifies the delivery.
public enum StandardWebhookSignature {
    /// The HMAC state keyed by `secret`, before any message: made once per secret (`DeliveryTarget` keeps it), since
    /// keying costs about as much as signing a small body.
    public static func keyed(_ secret: StandardWebhookSecret) -> HMAC<SHA256> {
        HMAC<SHA256>(key: SymmetricKey(data: secret.key))
    }

    /// The `webhook-signature` header value for `body` sent as message `id` at `timestamp` (Unix seconds), signed with
    /// each of `keys` (from `keyed`).
    public static func header(id: String, timestamp: Int64, body: UnsafeRawBufferPointer, keys: [HMAC<SHA256>]) -> String {
        var signed = "\(id).\(timestamp)."
        return signed.withUTF8 { prefix in
            keys.map { key in
                var mac = key
                mac.update(data: UnsafeRawBufferPointer(prefix))
                mac.update(data: body)
                return "v1," + Data(mac.finalize()).base64EncodedString()
            }
            .joined(separator: " ")
        }
    }
}
