import NIOCore

/// Reads the value at a JSON pointer of a raw document by scanning its bytes, building nothing else: a page's
/// next cursor without parsing its 100 KB of records, so that the next request can go while PostgreSQL parses the
/// page. Answers only what it reads exactly as the page statement's `#>>` would; `nil` otherwise (an escaped
/// string or key on the way, a number not in plain integer form, a pointer through an array, a malformed document).
enum RawJSONPointer {
    enum Value: Equatable {
        /// Nothing at the pointer, or JSON `null`.
        case absent
        case text(String)
        case bool(Bool)
        /// An object or an array.
        case container
    }

    static func value(at tokens: [String], in body: ByteBuffer) -> Value? {
        body.withUnsafeReadableBytes { bytes in
            var scanner = Scanner(bytes: bytes)
            guard let value = scanner.value(at: tokens[...]), scanner.atEnd() else { return nil }
            return value
        }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func atEnd() -> Bool {
            skipSpace()
            return index == bytes.count
        }

        /// The value at `tokens` under the value starting here, which is skipped past.
        mutating func value(at tokens: ArraySlice<String>) -> Value? {
            skipSpace()
            guard index < bytes.count else { return nil }
            guard let token = tokens.first else { return read() }
            // An array on the way is left to PostgreSQL; a scalar has nothing under it.
            if bytes[index] == UInt8(ascii: "[") { return nil }
            guard bytes[index] == UInt8(ascii: "{") else { return skip() ? .absent : nil }
            index += 1
            // The last of duplicate keys counts, as in `jsonb`.
            var found = Value.absent
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return found
            }
            while true {
                skipSpace()
                guard let key = plainString() else { return nil }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                if key == token {
                    guard let value = value(at: tokens.dropFirst()) else { return nil }
                    found = value
                } else {
                    guard skip() else { return nil }
                }
                skipSpace()
                guard index < bytes.count else { return nil }
                let separator = bytes[index]
                index += 1
                if separator == UInt8(ascii: "}") { return found }
                guard separator == UInt8(ascii: ",") else { return nil }
            }
        }

        /// The value starting here, as `#>>` gives it.
        private mutating func read() -> Value? {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return plainString().map(Value.text)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                return skip() ? .container : nil
            default:
                let start = index
                guard skip() else { return nil }
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                switch text {
                case "null": return .absent
                case "true": return .bool(true)
                case "false": return .bool(false)
                default:
                    // `jsonb` prints numbers in its own form: only a plain integer reads back as written.
                    let digits = text.hasPrefix("-") ? text.dropFirst() : text[...]
                    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0" || text == "0" else { return nil }
                    return .text(text)
                }
            }
        }

        /// A string without escapes, past its closing quote.
        private mutating func plainString() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                if bytes[end] == UInt8(ascii: "\\") { return nil }
                end += 1
            }
            guard end < bytes.count else { return nil }
            index = end + 1
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }

        /// Moves past the value starting here; false when the document ends first.
        private mutating func skip() -> Bool {
            skipSpace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\"") {
                        guard skipString() else { return false }
                        continue
                    }
                    index += 1
                    if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                        depth += 1
                    } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 { return true }
                    }
                }
                return false
            default:
                let start = index
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
                        UInt8(ascii: "\t"):
                        return index > start
                    default:
                        index += 1
                    }
                }
                return index > start
            }
        }

        private mutating func skipString() -> Bool {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    return true
                }
            }
            return false
        }

        private mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
                default: return
                }
            }
        }
    }
}
