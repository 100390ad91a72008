/// One piece of a `{placeholder}` template: literal text or a placeholder name.
enum TemplateSegment: Sendable, Hashable {
    case literal(String)
    case placeholder(String)
}

/// Splits a template such as `https://{shop}.myshopify.com` into literal text and placeholders.
///
/// Placeholder names follow the connection-parameter rule (`[a-z][a-z0-9_]*`, at most 64 characters).
/// A brace that does not open or close a well-formed placeholder is an error, so a template can never
/// hide a placeholder that resolution would skip.
func parseTemplateSegments(_ template: String) -> Result<[TemplateSegment], TemplateSyntaxError> {
    var segments: [TemplateSegment] = []
    var literal = ""
    var index = template.startIndex
    while index < template.endIndex {
        let character = template[index]
        if character == "}" { return .failure(.unbalancedBrace) }
        guard character == "{" else {
            literal.append(character)
            index = template.index(after: index)
            continue
        }
        guard let close = template[index...].firstIndex(of: "}") else { return .failure(.unbalancedBrace) }
        let name = String(template[template.index(after: index)..<close])
        guard ParameterName.isValid(name) else { return .failure(.invalidPlaceholder(name)) }
        if !literal.isEmpty {
            segments.append(.literal(literal))
            literal = ""
        }
        segments.append(.placeholder(name))
        index = template.index(after: close)
    }
    if !literal.isEmpty { segments.append(.literal(literal)) }
    return .success(segments)
}

/// Why a template could not be parsed.
enum TemplateSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    case unbalancedBrace
    case invalidPlaceholder(String)

    var description: String {
        switch self {
        case .unbalancedBrace: "it has a '{' or '}' that is not part of a {name} placeholder"
        case .invalidPlaceholder(let name):
            "placeholder '{\(name.prefix(64))}' is not a valid name (a-z, 0-9 and '_', starting with a letter, at most 64 characters)"
        }
    }
}

/// The naming rule shared by connection parameters, credential fields and placeholders.
enum ParameterName {
    static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count), let first = bytes.first, (97...122).contains(first) else { return false }
        return bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
    }
}
