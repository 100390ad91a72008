import Crypto

/// The plaintext of a 256-bit data key (DEK) or key-encryption key (KEK) version.
///
/// Deliberately opaque: no `description` of the bytes, so a key never lands in a log or error by accident.
public struct KeyMaterial: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let key: SymmetricKey

    public static let byteCount = 32

    /// A fresh random 256-bit key.
    public static func generate() -> KeyMaterial {
        KeyMaterial(key: SymmetricKey(size: .bits256))
    }

    /// Wraps existing key bytes; `nil` unless exactly 32 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.byteCount else { return nil }
        key = SymmetricKey(data: Array(bytes))
    }

    init(key: SymmetricKey) {
        self.key = key
    }

    /// The raw bytes, for wrapping and for writing a keyring file only.
    func withBytes<Result>(_ body: ([UInt8]) throws -> Result) rethrows -> Result {
        try key.withUnsafeBytes { try body(Array($0)) }
    }

    public var description: String { "KeyMaterial(redacted)" }
    public var debugDescription: String { description }
}
