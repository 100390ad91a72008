/// The structural problems found in a document a tenant defines (a provider, a sync), each naming the field at
/// fault: the API's 422.
public struct DefinitionValidationError: SwitchyardErrorConvertible, Sendable, Hashable, CustomStringConvertible {
    /// One problem: a field path such as `oauth2.authorize_url` and what is wrong with it.
    public struct Issue: Sendable, Hashable, CustomStringConvertible {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }

        public var description: String { "\(field) \(message)" }
    }

    /// What was validated, for the message: "provider definition", "sync definition".
    public var subject: String
    public var issues: [Issue]

    public init(_ subject: String, issues: [Issue]) {
        self.subject = subject
        self.issues = issues
    }

    public var description: String {
        let shown = issues.prefix(10).map(\.description).joined(separator: "; ")
        let more = issues.count > 10 ? " (and \(issues.count - 10) more)" : ""
        return "The \(subject) is invalid: \(shown)\(more)."
    }

    /// The API's form of this error: 422 validation-failed listing the problems.
    public var switchyardError: SwitchyardError { .validation(description) }

    /// Whether some issue concerns `field` (exactly, or a path below it).
    public func concerns(_ field: String) -> Bool {
        issues.contains { $0.field == field || $0.field.hasPrefix(field + ".") || $0.field.hasPrefix(field + "[") }
    }
}
