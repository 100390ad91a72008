import Crypto
import Foundation

/// A random, URL-safe secret handed to a browser or a provider (connect tokens, `state`, browser cookies),
/// of which only the SHA-256 is stored: a database dump does not hold usable values.
public struct OpaqueToken: Sendable, Hashable, CustomStringConvertible {
    /// The text given out; never logged.
    public let value: String

    /// 32 random bytes (256 bits), base64url without padding, after an optional readable prefix.
    public static func generate(prefix: String = "") -> OpaqueToken {
        OpaqueToken(value: prefix + Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }))
    }

    public init(value: String) {
        self.value = value
    }

    /// What the database keeps and looks up by.
    public var hash: [UInt8] { Array(SHA256.hash(data: Data(value.utf8))) }

    public var description: String { "OpaqueToken(redacted)" }
}

/// Base64url without padding (RFC 4648 §5), as PKCE and URLs want it.
enum Base64URL {
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
