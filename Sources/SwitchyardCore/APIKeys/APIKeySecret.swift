import Crypto
import Foundation

/// A tenant API key in its wire format (REQUIREMENTS AK-1):
/// `sy_live_` + 43 base62 characters of 32 random bytes + 6 base62 characters of their CRC-32.
///
/// The checksum lets the server reject mistyped or made-up keys without a database round trip,
/// and lets secret scanners recognise a Switchyard key with few false positives.
/// Only the SHA-256 `hash` and the short `displayPrefix` are ever stored.
public struct APIKeySecret: Sendable {
    public static let prefix = "sy_live_"
    static let bodyLength = 43
    static let checksumLength = 6

    /// The full key. Shown to its owner once, at creation.
    public let value: String

    public static func generate() -> APIKeySecret {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let body = Base62.encode(random, width: bodyLength)
        return APIKeySecret(validated: prefix + body + checksum(of: body))
    }

    /// Parses a presented key; `nil` when its shape or checksum is wrong.
    public init?(parsing value: some StringProtocol) {
        guard value.utf8.count == Self.prefix.utf8.count + Self.bodyLength + Self.checksumLength,
            value.hasPrefix(Self.prefix)
        else { return nil }
        let rest = Substring(value.dropFirst(Self.prefix.count))
        let body = rest.prefix(Self.bodyLength)
        let checksum = rest.suffix(Self.checksumLength)
        guard Base62.isValid(rest), checksum == Self.checksum(of: String(body)) else { return nil }
        self.value = String(value)
    }

    private init(validated value: String) {
        self.value = value
    }

    /// What lists show: enough to recognise a key, far too little to use it.
    public var displayPrefix: String {
        String(value.prefix(Self.prefix.count + 8))
    }

    /// The stored lookup hash. A key has 256 random bits, so a fast hash is enough (no password hashing).
    public var hash: [UInt8] {
        Array(SHA256.hash(data: Array(value.utf8)))
    }

    private static func checksum(of body: String) -> String {
        let crc = CRC32.checksum(body.utf8)
        let bytes = [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
        return Base62.encode(bytes, width: checksumLength)
    }
}
