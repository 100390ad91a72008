/// Fixed-width base62 encoding of big-endian byte strings (`0-9A-Za-z`): URL- and shell-safe,
/// and double-click selects the whole key.
enum Base62 {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Encodes `bytes` as exactly `width` characters (left-padded with `0`).
    static func encode(_ bytes: [UInt8], width: Int) -> String {
        var number = bytes  // repeated division of a big-endian base-256 number by 62
        var digits: [UInt8] = []
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for index in number.indices {
                let value = remainder * 256 + Int(number[index])
                number[index] = UInt8(value / 62)
                remainder = value % 62
            }
            digits.append(alphabet[remainder])
        }
        while digits.count < width { digits.append(alphabet[0]) }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    static func isValid(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
        }
    }
}
