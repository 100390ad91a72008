import Foundation

/// The text form of ids, written and read here rather than by Foundation: on Linux `uuidString` formats through
/// `vfprintf` and `UUID(uuidString:)` parses through `vfscanf`, which showed in profiles of the fan-out (a few ids per
/// delivery) at several times the cost of these.
extension UUID {
    /// The API's spelling of an id: lowercase, as PostgreSQL prints it and as `Location` headers carry it
    /// (Foundation's `uuidString` is uppercase).
    public var lowercasedString: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { text in
                var index = 0
                for (position, byte) in bytes.enumerated() {
                    if Self.hyphenBefore(position) {
                        text[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    text[index] = Self.hexDigit(byte >> 4)
                    text[index + 1] = Self.hexDigit(byte & 0x0F)
                    index += 2
                }
                return index
            }
        }
    }

    /// Reads the hyphenated form (`8-4-4-4-12` hex digits, either case), as `UUID(uuidString:)` does; nil otherwise.
    public init?(hyphenated text: String) {
        var text = text
        let bytes = text.withUTF8 { utf8 -> [UInt8]? in
            guard utf8.count == 36 else { return nil }
            var bytes = [UInt8]()
            bytes.reserveCapacity(16)
            var index = 0
            for position in 0..<16 {
                if Self.hyphenBefore(position) {
                    guard utf8[index] == UInt8(ascii: "-") else { return nil }
                    index += 1
                }
                guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
                bytes.append(high << 4 | low)
                index += 2
            }
            return bytes
        }
        guard let bytes else { return nil }
        self.init(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }

    private static func hyphenBefore(_ position: Int) -> Bool {
        position == 4 || position == 6 || position == 8 || position == 10
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension KeyedDecodingContainer {
    /// An id in its hyphenated text form, read with `UUID(hyphenated:)`: for payloads decoded per job in bulk.
    public func decodeHyphenatedUUID(forKey key: Key) throws -> UUID {
        let text = try decode(String.self, forKey: key)
        guard let id = UUID(hyphenated: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "Attempted to decode UUID from invalid UUID string.")
        }
        return id
    }
}
