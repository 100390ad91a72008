import SwitchyardCore

// JSON Logic's reference implementation is JavaScript, and its published tests expect JavaScript's coercions
// (`"1" == 1`, `"2" > 1`, `[]` falsy). These are those coercions (ECMA-262 ToNumber, ToString, IsLooselyEqual,
// IsLessThan) over JSON values, which have no `undefined` and no object identity.
extension JSONValue {
    /// JSON Logic's truthiness: JavaScript's, except that an empty array is false.
    var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        case .number(let value): value != 0 && !value.isNaN
        case .string(let value): !value.isEmpty
        case .array(let elements): !elements.isEmpty
        case .object: true
        }
    }

    /// JavaScript's `Number(value)`: `NaN` where JavaScript's is.
    var jsNumber: Double {
        switch self {
        case .null: 0
        case .bool(let value): value ? 1 : 0
        case .number(let value): value
        case .string(let value): JavaScriptNumber.parse(value)
        case .array: JavaScriptNumber.parse(jsString)
        case .object: .nan
        }
    }

    /// JavaScript's `parseFloat(value)`, which `+` and `*` use in the reference implementation (`"3px"` is 3, `""` is NaN).
    var jsParseFloat: Double {
        if case .number(let value) = self { return value }
        return JavaScriptNumber.parsePrefix(jsString)
    }

    /// JavaScript's `String(value)` (an array joins its elements with commas, a null element as nothing).
    var jsString: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .number(let value): JavaScriptNumber.format(value)
        case .string(let value): value
        case .array(let elements): elements.map(\.joinedString).joined(separator: ",")
        case .object: "[object Object]"
        }
    }

    /// How `Array.prototype.join` writes an element: null as nothing.
    var joinedString: String {
        if case .null = self { return "" }
        return jsString
    }

    /// `===`. Arrays and objects compare by value: JSON has no identity to compare.
    func strictlyEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.number(let left), .number(let right)): left == right
        default: self == other
        }
    }

    /// `==` with JavaScript's coercions: a string or boolean against a number compares as numbers, an array against a
    /// primitive as its string, null only equals null.
    func looselyEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): true
        case (.null, _), (_, .null): false
        case (.number(let left), .number(let right)): left == right
        case (.string(let left), .string(let right)): left == right
        case (.bool(let left), .bool(let right)): left == right
        case (.number(let left), .string): left == other.jsNumber
        case (.string, .number(let right)): jsNumber == right
        case (.bool, _): JSONValue.number(jsNumber).looselyEquals(other)
        case (_, .bool): looselyEquals(.number(other.jsNumber))
        case (.array, .array), (.object, .object), (.array, .object), (.object, .array): strictlyEquals(other)
        case (.array, _), (.object, _): JSONValue.string(jsString).looselyEquals(other)
        case (_, .array), (_, .object): looselyEquals(.string(other.jsString))
        }
    }

    /// JavaScript's `<`: two strings (or arrays, as strings) compare by UTF-16 code units, anything else as numbers;
    /// nil when either number is NaN (every comparison with NaN is false).
    func jsLessThan(_ other: JSONValue) -> Bool? {
        let left = primitive
        let right = other.primitive
        if case .string(let leftText) = left, case .string(let rightText) = right {
            return leftText.utf16.lexicographicallyPrecedes(rightText.utf16)
        }
        let leftNumber = left.jsNumber
        let rightNumber = right.jsNumber
        guard !leftNumber.isNaN, !rightNumber.isNaN else { return nil }
        return leftNumber < rightNumber
    }

    /// JavaScript's ToPrimitive: arrays and objects become their strings.
    private var primitive: JSONValue {
        switch self {
        case .array, .object: .string(jsString)
        default: self
        }
    }
}

/// JavaScript's number parsing and formatting.
enum JavaScriptNumber {
    /// `Number(text)`: surrounding white space ignored, empty is 0, anything but a whole numeric literal is NaN.
    static func parse(_ text: String) -> Double {
        let trimmed = text.trimmingJavaScriptWhiteSpace()
        if trimmed.isEmpty { return 0 }
        let bytes = Array(trimmed.utf8)
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            let radix: Int? =
                switch bytes[1] {
                case UInt8(ascii: "x"), UInt8(ascii: "X"): 16
                case UInt8(ascii: "o"), UInt8(ascii: "O"): 8
                case UInt8(ascii: "b"), UInt8(ascii: "B"): 2
                default: nil
                }
            if let radix {
                return UInt64(trimmed.dropFirst(2), radix: radix).map(Double.init) ?? .nan
            }
        }
        let length = decimalPrefixLength(bytes)
        guard length == bytes.count else { return .nan }
        return value(of: trimmed)
    }

    /// `parseFloat(text)`: the longest numeric prefix after leading white space, NaN when there is none.
    static func parsePrefix(_ text: String) -> Double {
        let trimmed = text.trimmingJavaScriptWhiteSpace()
        let bytes = Array(trimmed.utf8)
        let length = decimalPrefixLength(bytes)
        guard length > 0 else { return .nan }
        return value(of: String(decoding: bytes[..<length], as: UTF8.self))
    }

    /// JavaScript's `Number.prototype.toString()`: `1` not `1.0`, `1.5`, `1e+21`, `1e-7`, shortest digits that round-trip.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == 0 { return "0" }
        // Swift's description is also the shortest round-trip digits; only the layout differs from JavaScript's.
        let description = String(value.magnitude.description)
        let parts = description.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        let mantissa = parts[0].split(separator: ".", maxSplits: 1)
        let integerPart = mantissa[0]
        let fractionPart = mantissa.count == 2 ? mantissa[1] : ""
        var digits = Array(integerPart + fractionPart)
        // The value is 0.d1d2...dk x 10^n (ECMA-262 Number::toString's k and n).
        var n = integerPart.count + exponent
        while digits.first == "0" {
            digits.removeFirst()
            n -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        let k = digits.count
        let text = String(digits)
        let sign = value < 0 ? "-" : ""
        if k <= n && n <= 21 {
            return sign + text + String(repeating: "0", count: n - k)
        }
        if 0 < n && n <= 21 {
            return sign + String(digits[..<n]) + "." + String(digits[n...])
        }
        if -6 < n && n <= 0 {
            return sign + "0." + String(repeating: "0", count: -n) + text
        }
        let exponentText = (n - 1 < 0 ? "-" : "+") + String(abs(n - 1))
        if k == 1 { return sign + text + "e" + exponentText }
        return sign + String(digits[0]) + "." + String(digits[1...]) + "e" + exponentText
    }

    /// The length of the longest prefix that is a JavaScript StrDecimalLiteral (`-1.5e3`, `.5`, `Infinity`), 0 if none.
    private static func decimalPrefixLength(_ bytes: [UInt8]) -> Int {
        var index = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        let infinity = Array("Infinity".utf8)
        if bytes[index...].starts(with: infinity) { return index + infinity.count }
        func digits() -> Int {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - start
        }
        var count = digits()
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            count += digits()
            if count == 0 { return 0 }
        }
        guard count > 0 else { return 0 }
        let mantissaEnd = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            if digits() == 0 { return mantissaEnd }
        }
        return index
    }

    /// The value of a text `decimalPrefixLength` accepted whole (Swift's parser takes `1.`, `.5` and signs as JavaScript's does).
    private static func value(of literal: String) -> Double {
        if literal.hasSuffix("Infinity") { return literal.hasPrefix("-") ? -.infinity : .infinity }
        return Double(literal) ?? .nan
    }
}

extension String {
    /// Without the white space and line terminators JavaScript's `trim` removes.
    fileprivate func trimmingJavaScriptWhiteSpace() -> String {
        let isSpace: (Unicode.Scalar) -> Bool = { scalar in
            scalar.properties.isWhitespace || scalar == "\u{FEFF}"
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(scalars[first...last])
    }
}
