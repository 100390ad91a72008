import SwitchyardCore

/// An RFC 6901 JSON pointer (`/data/0/id`; `""` is the whole document), kept as the text a definition holds and
/// as its reference tokens, which PostgreSQL's `#>` and `#>>` take as a `text[]` path.
public struct JSONPointer: Sendable, Hashable, Codable, CustomStringConvertible {
    public let text: String
    /// The unescaped reference tokens (`~1` is `/`, `~0` is `~`).
    public let tokens: [String]

    public init(_ text: String) throws(JSONPointerError) {
        guard text.isEmpty || text.hasPrefix("/") else { throw .notAbsolute }
        var tokens: [String] = []
        if !text.isEmpty {
            for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                var token = ""
                var escaping = false
                for character in raw {
                    if escaping {
                        switch character {
                        case "0": token.append("~")
                        case "1": token.append("/")
                        default: throw .badEscape
                        }
                        escaping = false
                    } else if character == "~" {
                        escaping = true
                    } else {
                        token.append(character)
                    }
                }
                guard !escaping else { throw .badEscape }
                tokens.append(token)
            }
        }
        self.text = text
        self.tokens = tokens
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public var description: String { text.isEmpty ? "(the whole response)" : text }

    /// The value at this pointer in a `JSONValue` document, if there is one.
    public func value(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let members):
                guard let member = members[token] else { return nil }
                current = member
            case .array(let elements):
                guard let index = Int(token), elements.indices.contains(index), token == String(index) else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }
}

public enum JSONPointerError: Error, Sendable, Hashable, CustomStringConvertible {
    case notAbsolute
    case badEscape

    public var description: String {
        switch self {
        case .notAbsolute: "must be empty (the whole document) or start with '/' (RFC 6901)"
        case .badEscape: "may use '~' only as '~0' or '~1' (RFC 6901)"
        }
    }
}
