import Foundation

/// Any JSON value, for documents whose shape a provider decides (the raw fields of a token response).
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        // An integral number is written without a fraction (`2`, not `2.0`): a page number or an id must read
        // as an integer to the strictest parser (GraphQL `Int`).
        case .number(let value) where value.rounded() == value && abs(value) < 9_007_199_254_740_992: try container.encode(Int64(value))
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value as text when it is a string or a number (`expires_in` arrives as either).
    public var text: String? {
        switch self {
        case .string(let value): value
        case .number(let value): value.rounded() == value ? String(Int(value)) : String(value)
        default: nil
        }
    }

    /// This value with `value` placed at the pointer `tokens`, creating the objects on the way (an array element is
    /// replaced only where it exists).
    public func setting(_ value: JSONValue, at tokens: some Collection<String>) -> JSONValue {
        guard let first = tokens.first else { return value }
        let rest = tokens.dropFirst()
        switch self {
        case .array(var elements):
            if let index = Int(first), elements.indices.contains(index) {
                elements[index] = elements[index].setting(value, at: rest)
                return .array(elements)
            }
            return self
        case .object(var members):
            members[first] = (members[first] ?? .null).setting(value, at: rest)
            return .object(members)
        default:
            return JSONValue.object([:]).setting(value, at: tokens)
        }
    }
}
