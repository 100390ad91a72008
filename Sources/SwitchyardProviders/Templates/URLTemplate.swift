import Foundation

/// A URL that may contain `{parameter}` placeholders, e.g. `https://{subdomain}.zendesk.com/api/v2`.
///
/// Encoded as its plain string. Resolution lives on `ProviderDefinition`, which knows the parameters'
/// validation rules; this type only parses.
public struct URLTemplate: Sendable, Hashable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    /// The placeholder names in order of first appearance; empty for a malformed template.
    public var parameterNames: [String] {
        guard case .success(let segments) = parseTemplateSegments(rawValue) else { return [] }
        var seen: Set<String> = []
        return segments.compactMap { segment in
            guard case .placeholder(let name) = segment, seen.insert(name).inserted else { return nil }
            return name
        }
    }

    /// The placeholders in the URL's authority (host or port), whose values must also be DNS-label text.
    var hostParameterNames: Set<String> {
        guard case .success(let segments) = parseTemplateSegments(String(URLSyntax.authority(of: rawValue))) else { return [] }
        return Set(segments.compactMap { if case .placeholder(let name) = $0 { name } else { nil } })
    }

    /// Substitutes already-validated values; a placeholder without a value is reported by name.
    func substitute(_ values: [String: String]) -> Result<String, SubstitutionFailure> {
        switch parseTemplateSegments(rawValue) {
        case .failure(let error):
            return .failure(.malformed(error))
        case .success(let segments):
            var output = ""
            for segment in segments {
                switch segment {
                case .literal(let text):
                    output += text
                case .placeholder(let name):
                    guard let value = values[name] else { return .failure(.missing(name)) }
                    output += value
                }
            }
            return .success(output)
        }
    }

    enum SubstitutionFailure: Error {
        case malformed(TemplateSyntaxError)
        case missing(String)
    }
}
