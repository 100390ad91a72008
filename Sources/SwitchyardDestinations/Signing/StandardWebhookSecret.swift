import Crypto
import Foundation

/// A Standard Webhooks signing secret: `whsec_` and the base64 of the HMAC key.
public struct StandardWebhookSecret: Sendable, Equatable {
    public static let prefix = "whsec_"
    /// The key's bytes.
    public let key: [UInt8]

    /// A new random secret of 32 bytes (the spec asks for 24 to 64).
    public static func generate() -> StandardWebhookSecret {
        StandardWebhookSecret(key: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
    }

    public init(key: [UInt8]) {
        self.key = key
    }

    /// Reads `whsec_<base64>`; nil when it is not one.
    public init?(_ text: String) {
        guard text.hasPrefix(Self.prefix), let key = Data(base64Encoded: String(text.dropFirst(Self.prefix.count))), !key.isEmpty else {
            return nil
        }
        self.key = Array(key)
    }

    /// The secret as shown once to its owner and stored sealed.
    public var text: String { Self.prefix + Data(key).base64EncodedString() }
}
