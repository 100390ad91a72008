import Crypto
import Foundation
import SwitchyardCore

/// A delivery that passed verification, with what identifies it.
public struct VerifiedDelivery: Sendable, Equatable {
    /// The provider's event id, or `sha256:<hex of the body>` when the provider sends none.
    public let eventID: String
    public let eventType: String?
    /// Slack's `url_verification` and similar handshakes: answer with this challenge, store nothing.
    public let challenge: String?
}

/// Verifies deliveries over their raw bytes, in constant time, before anything parses them (WH-1, WH-2).
public struct WebhookVerifier: Sendable {
    public let scheme: WebhookScheme

    public init(scheme: WebhookScheme) {
        self.scheme = scheme
    }

    /// Checks `body` against every secret (several are active during a rotation, WH-3); `headers` are keyed lower-case.
    public func verify(body: [UInt8], headers: [String: String], secrets: [String], now: Date = Date()) throws(WebhookRejection) -> VerifiedDelivery {
        guard !secrets.isEmpty else { throw .noSecret }
        switch scheme {
        case .stripe(let tolerance):
            guard let header = headers["stripe-signature"] else { throw .missingSignature }
            let parts = header.split(separator: ",").map { $0.split(separator: "=", maxSplits: 1).map(String.init) }
            guard let timestamp = parts.first(where: { $0.first == "t" && $0.count == 2 })?[1] else { throw .missingTimestamp }
            try Self.check(timestamp: timestamp, tolerance: tolerance, now: now)
            let signatures = parts.filter { $0.first == "v1" && $0.count == 2 }.compactMap { Hex.decode($0[1]) }
            try Self.match(signatures, secrets: secrets.map(Self.utf8), algorithm: .sha256, content: Array("\(timestamp).".utf8) + body)
            return try delivery(body: body, headers: headers)
        case .github:
            guard let header = headers["x-hub-signature-256"] else { throw .missingSignature }
            let signatures = Self.values(header, prefix: "sha256=").compactMap(Hex.decode)
            try Self.match(signatures, secrets: secrets.map(Self.utf8), algorithm: .sha256, content: body)
            return try delivery(body: body, headers: headers)
        case .slack(let tolerance):
            guard let header = headers["x-slack-signature"] else { throw .missingSignature }
            guard let timestamp = headers["x-slack-request-timestamp"] else { throw .missingTimestamp }
            try Self.check(timestamp: timestamp, tolerance: tolerance, now: now)
            let signatures = Self.values(header, prefix: "v0=").compactMap(Hex.decode)
            try Self.match(signatures, secrets: secrets.map(Self.utf8), algorithm: .sha256, content: Array("v0:\(timestamp):".utf8) + body)
            return try delivery(body: body, headers: headers)
        case .shopify:
            guard let header = headers["x-shopify-hmac-sha256"] else { throw .missingSignature }
            let signatures = Self.values(header, prefix: nil).compactMap { Data(base64Encoded: $0).map(Array.init) }
            try Self.match(signatures, secrets: secrets.map(Self.utf8), algorithm: .sha256, content: body)
            return try delivery(body: body, headers: headers)
        case .standardWebhooks(let tolerance):
            // Svix sends the same scheme under `svix-*` names, and its verifier accepts both families: so do we, one
            // family at a time (never an id of one with the signature of the other).
            let family = StandardWebhooksHeaders(headers)
            guard let header = family.signature else { throw .missingSignature }
            guard let id = family.id, let timestamp = family.timestamp else { throw .missingTimestamp }
            try Self.check(timestamp: timestamp, tolerance: tolerance, now: now)
            // `v1,<base64>` entries separated by spaces; other versions are ignored.
            let signatures = header.split(separator: " ").compactMap { entry -> [UInt8]? in
                let parts = entry.split(separator: ",", maxSplits: 1)
                guard parts.count == 2, parts[0] == "v1" else { return nil }
                return Data(base64Encoded: String(parts[1])).map(Array.init)
            }
            try Self.match(
                signatures,
                secrets: secrets.compactMap(StandardWebhooksSecret.key),
                algorithm: .sha256,
                content: Array("\(id).\(timestamp).".utf8) + body
            )
            return try delivery(body: body, headers: headers)
        case .hmac(let generic):
            guard let header = headers[generic.header.lowercased()] else { throw .missingSignature }
            var content = body
            if generic.signedContent != .body {
                guard let name = generic.timestampHeader?.lowercased(), let timestamp = headers[name] else { throw .missingTimestamp }
                if let tolerance = generic.toleranceSeconds { try Self.check(timestamp: timestamp, tolerance: tolerance, now: now) }
                content = Array((generic.signedContent == .timestampDotBody ? "\(timestamp)." : timestamp).utf8) + body
            }
            let signatures = Self.values(header, prefix: generic.prefix).compactMap { value -> [UInt8]? in
                generic.encoding == .hex ? Hex.decode(value) : Data(base64Encoded: value).map(Array.init)
            }
            try Self.match(signatures, secrets: secrets.map(Self.utf8), algorithm: generic.algorithm, content: content)
            return try delivery(body: body, headers: headers)
        }
    }

    /// A provider's event id or type as the database can keep it: 1 to 300 bytes, no NUL. A signed delivery
    /// whose id is not (empty, huge, `\u0000`) is still recorded, under its body's digest, which de-duplicates
    /// its redeliveries just as well; refusing it would only make the provider retry it forever.
    static func storable(_ text: String) -> String? {
        (1...300).contains(text.utf8.count) && !text.utf8.contains(0) ? text : nil
    }

    /// Identity and type, read only once the bytes are known to be the provider's.
    private func delivery(body: [UInt8], headers: [String: String]) throws(WebhookRejection) -> VerifiedDelivery {
        // Parsed only for the schemes whose identity is in the body, and only now that the bytes are the provider's.
        var parsed: [String: Any]?? = .none
        func json() -> [String: Any]? {
            if case .some(let value) = parsed { return value }
            let value = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
            parsed = .some(value)
            return value
        }
        let digest = { "sha256:" + Hex.encode(Array(SHA256.hash(data: body))) }
        let (id, type, challenge): (String?, String?, String?) =
            switch scheme {
            case .stripe:
                (json()?["id"] as? String, json()?["type"] as? String, nil)
            case .github:
                (headers["x-github-delivery"], headers["x-github-event"], nil)
            case .slack where json()?["type"] as? String == "url_verification":
                (nil, "url_verification", json()?["challenge"] as? String ?? "")
            case .slack:
                (json()?["event_id"] as? String, ((json()?["event"] as? [String: Any])?["type"] as? String) ?? (json()?["type"] as? String), nil)
            case .shopify:
                (headers["x-shopify-webhook-id"] ?? headers["x-shopify-event-id"], headers["x-shopify-topic"], nil)
            case .standardWebhooks:
                (StandardWebhooksHeaders(headers).id, json()?["type"] as? String, nil)
            case .hmac(let generic):
                (generic.eventIDHeader.flatMap { headers[$0.lowercased()] }, generic.eventTypeHeader.flatMap { headers[$0.lowercased()] }, nil)
            }
        return VerifiedDelivery(eventID: id.flatMap(Self.storable) ?? digest(), eventType: type.flatMap(Self.storable), challenge: challenge)
    }

    static func utf8(_ secret: String) -> [UInt8] { Array(secret.utf8) }

    /// The comma- or space-separated values of a signature header, each without `prefix`.
    static func values(_ header: String, prefix: String?) -> [String] {
        // Split as bytes: splitting by Character walks grapheme boundaries, a cost on every delivery.
        header.utf8.split(whereSeparator: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: " ") }).map { value in
            let text = String(Substring(value))
            guard let prefix, text.hasPrefix(prefix) else { return text }
            return String(text.dropFirst(prefix.count))
        }
    }

    /// A Unix-seconds timestamp within `tolerance` of `now`, either way (WH-5: stale and future both fail).
    static func check(timestamp: String, tolerance: Int, now: Date) throws(WebhookRejection) {
        guard let seconds = Double(timestamp) else { throw .missingTimestamp }
        let skew = now.timeIntervalSince1970 - seconds
        if skew > Double(tolerance) { throw .staleTimestamp }
        if skew < -Double(tolerance) { throw .futureTimestamp }
    }

    /// Passes when any signature equals the MAC under any secret; every comparison runs in constant time.
    static func match(_ signatures: [[UInt8]], secrets: [[UInt8]], algorithm: GenericHMAC.Algorithm, content: [UInt8]) throws(WebhookRejection) {
        guard !signatures.isEmpty else { throw .invalidSignature }
        var matched = false
        for secret in secrets {
            let mac = HMACDigest.compute(algorithm, key: secret, content: content)
            for signature in signatures where ConstantTime.bytesEqual(mac, signature) { matched = true }
        }
        guard matched else { throw .invalidSignature }
    }
}

enum HMACDigest {
    static func compute(_ algorithm: GenericHMAC.Algorithm, key: [UInt8], content: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch algorithm {
        case .sha1: return Array(HMAC<Insecure.SHA1>.authenticationCode(for: content, using: key))
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: content, using: key))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: content, using: key))
        }
    }
}

/// Standard Webhooks secrets: `whsec_` followed by the base64 of the key.
public enum StandardWebhooksSecret {
    public static let prefix = "whsec_"

    /// A new secret of 32 random bytes.
    public static func generate() -> String {
        prefix + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    static func key(_ secret: String) -> [UInt8]? {
        let encoded = secret.hasPrefix(prefix) ? String(secret.dropFirst(prefix.count)) : secret
        return Data(base64Encoded: encoded).map(Array.init)
    }
}

enum Hex {
    static func decode(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count / 2)
        var index = 0
        while index < bytes.count {
            guard let high = value(bytes[index]), let low = value(bytes[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }

    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var result = [UInt8]()
        result.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            result.append(digits[Int(byte >> 4)])
            result.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: result, as: UTF8.self)
    }

    private static func value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 97...102: byte - 87
        case 65...70: byte - 55
        default: nil
        }
    }
}

/// The Standard Webhooks headers of a delivery: `webhook-id`, `-timestamp`, `-signature`, or Svix's `svix-id`,
/// `-timestamp`, `-signature` when the delivery carries no `webhook-signature`.
struct StandardWebhooksHeaders {
    let id: String?
    let timestamp: String?
    let signature: String?

    init(_ headers: [String: String]) {
        let prefix = headers["webhook-signature"] == nil && headers["svix-signature"] != nil ? "svix-" : "webhook-"
        id = headers[prefix + "id"]
        timestamp = headers[prefix + "timestamp"]
        signature = headers[prefix + "signature"]
    }
}
