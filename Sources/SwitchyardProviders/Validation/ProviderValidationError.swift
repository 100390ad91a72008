import SwitchyardCore

/// The structural problems found in a provider definition, each naming the field at fault.
public struct ProviderValidationError: SwitchyardErrorConvertible, Sendable, Hashable, CustomStringConvertible {
    /// One problem: a field path such as `oauth2.authorize_url` and what is wrong with it.
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        public var field: String
        public var message: String

        public var description: String { "\(field) \(message)" }
    }

    public var issues: [Issue]

    public var description: String {
        let shown = issues.prefix(10).map(\.description).joined(separator: "; ")
        let more = issues.count > 10 ? " (and \(issues.count - 10) more)" : ""
        return "The provider definition is invalid: \(shown)\(more)."
    }

    /// The API's form of this error: 422 validation-failed listing the problems.
    public var switchyardError: SwitchyardError { .validation(description) }

    /// Whether some issue concerns `field` (exactly, or a path below it).
    public func concerns(_ field: String) -> Bool {
        issues.contains { $0.field == field || $0.field.hasPrefix(field + ".") || $0.field.hasPrefix(field + "[") }
    }
}
