/// JSON text of a `JSONValue` without going through `JSONEncoder` (the API writes every response body this way).
///
/// The same text `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` writes: object keys in order, an
/// integral number within 2^53 without a fraction (as `JSONValue.encode(to:)` does), other numbers in Swift's shortest
/// form, strings with `"`, `\` and control characters escaped.
extension JSONValue {
    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        write(into: &bytes)
        return bytes
    }

    func write(into bytes: inout [UInt8]) {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value) where value.rounded() == value && abs(value) < 9_007_199_254_740_992:
            bytes.append(contentsOf: String(Int64(value)).utf8)
        case .number(let value):
            // As `JSONEncoder` writes a `Double`: its shortest form, without a trailing `.0`.
            let text = value.description
            bytes.append(contentsOf: (text.hasSuffix(".0") ? text.dropLast(2) : Substring(text)).utf8)
        case .string(let value): Self.writeString(value, into: &bytes)
        case .array(let elements): Self.writeArray(elements, into: &bytes) { $0.write(into: &$1) }
        case .object(let members):
            // Sorted by the keys' UTF-8 bytes, as `JSONEncoder`'s `.sortedKeys` orders them.
            let keys = members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            Self.writeObject(keys.lazy.map { ($0, members[$0]!) }, into: &bytes) { $0.write(into: &$1) }
        }
    }

    /// `[...]`, each element written by `write`.
    static func writeArray<Element>(_ elements: [Element], into bytes: inout [UInt8], _ write: (Element, inout [UInt8]) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            write(element, &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// `{...}` of `members` in the order given, each value written by `write`.
    static func writeObject<Value>(
        _ members: some Sequence<(String, Value)>,
        into bytes: inout [UInt8],
        _ write: (Value, inout [UInt8]) -> Void
    ) {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for (key, value) in members {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            writeString(key, into: &bytes)
            bytes.append(UInt8(ascii: ":"))
            write(value, &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    static func writeString(_ value: String, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings (ids, names, timestamps) need no escape: copied whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
