import Crypto
import Foundation

/// A PKCE verifier and its S256 challenge (RFC 7636 §4; REQUIREMENTS OA-2: never `plain`).
public struct PKCE: Sendable {
    /// 32 random bytes, base64url: 43 characters from the unreserved set.
    public let verifier: String

    public static func generate() -> PKCE {
        PKCE(verifier: OpaqueToken.generate().value)
    }

    public init(verifier: String) {
        self.verifier = verifier
    }

    /// BASE64URL(SHA256(ASCII(verifier))).
    public var challenge: String { Self.challenge(for: verifier) }

    public static func challenge(for verifier: String) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Data(verifier.utf8))))
    }

    public static let method = "S256"
}
