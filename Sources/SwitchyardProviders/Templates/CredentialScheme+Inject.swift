import Foundation
import SwitchyardCore

/// A header to add to an outgoing API request. Its value holds a secret: never log it.
public struct InjectedHeader: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let value: String

    /// Redacted, so string interpolation in a log line cannot leak the credential (OA-9).
    public var description: String { "\(name): <redacted>" }
}

/// Why a tenant's credential could not be turned into a request header. Never echoes a value.
public enum CredentialError: SwitchyardErrorConvertible, Sendable, Hashable, CustomStringConvertible {
    case missing(field: String)
    case unknown(field: String)
    case invalid(field: String, reason: String)
    /// The provider's injection template is broken.
    case malformedTemplate(detail: String)

    public var description: String {
        switch self {
        case .missing(let field): "Credential field '\(printable(field))' is required."
        case .unknown(let field): "Credential field '\(printable(field))' is not defined by this provider."
        case .invalid(let field, let reason): "Credential field '\(printable(field))' is invalid: \(reason)."
        case .malformedTemplate(let detail): "The provider's credential template is unusable: \(detail)."
        }
    }

    /// The API's form of this error: 422 validation-failed with the message above.
    public var switchyardError: SwitchyardError { .validation(description) }
}

extension CredentialScheme {
    /// The longest credential value accepted.
    public static let maximumValueLength = 4096

    /// Checks credential values: no unknown fields, all declared fields present, no control characters.
    public func validate(_ credentials: [String: String]) throws(CredentialError) {
        for name in credentials.keys.sorted() where !fields.contains(where: { $0.name == name }) {
            throw .unknown(field: name)
        }
        for field in fields {
            guard let value = credentials[field.name] else { throw .missing(field: field.name) }
            guard !value.isEmpty else { throw .invalid(field: field.name, reason: "it must not be empty") }
            guard value.utf8.count <= Self.maximumValueLength else {
                throw .invalid(field: field.name, reason: "it must be at most \(Self.maximumValueLength) bytes")
            }
            // CR, LF and other controls would let a value split the header (request smuggling).
            guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw .invalid(field: field.name, reason: "it must not contain control characters")
            }
        }
    }

    /// The header that carries these credentials on an API call.
    public func header(for credentials: [String: String]) throws(CredentialError) -> InjectedHeader {
        try validate(credentials)
        switch injection {
        case .header(let name, let template):
            return InjectedHeader(name: name, value: try Self.fill(template, credentials))
        case .basic(let usernameTemplate, let passwordTemplate):
            let username = try Self.fill(usernameTemplate, credentials)
            let password = try Self.fill(passwordTemplate, credentials)
            // RFC 7617 §2: the user-id cannot contain a colon, or the split would be ambiguous.
            guard !username.contains(":") else {
                throw .invalid(field: Self.fieldNames(in: usernameTemplate).first ?? "username", reason: "it must not contain ':'")
            }
            let token = Data("\(username):\(password)".utf8).base64EncodedString()
            return InjectedHeader(name: "Authorization", value: "Basic \(token)")
        }
    }

    static func fill(_ template: String, _ credentials: [String: String]) throws(CredentialError) -> String {
        switch parseTemplateSegments(template) {
        case .failure(let error):
            throw .malformedTemplate(detail: error.description)
        case .success(let segments):
            var output = ""
            for segment in segments {
                switch segment {
                case .literal(let text): output += text
                case .placeholder(let name):
                    guard let value = credentials[name] else { throw .missing(field: name) }
                    output += value
                }
            }
            return output
        }
    }

    static func fieldNames(in template: String) -> [String] {
        guard case .success(let segments) = parseTemplateSegments(template) else { return [] }
        return segments.compactMap { if case .placeholder(let name) = $0 { name } else { nil } }
    }
}

extension ProviderDefinition {
    /// The header carrying a tenant's stored credential, for an `api_key` or `basic` provider; nil for OAuth.
    public func credentialHeader(for credentials: [String: String]) throws(CredentialError) -> InjectedHeader? {
        try authentication.credentials?.header(for: credentials)
    }
}
