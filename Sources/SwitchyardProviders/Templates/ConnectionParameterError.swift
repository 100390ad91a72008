import SwitchyardCore

/// Why connection parameters could not be accepted or a provider URL could not be resolved.
///
/// Messages name the parameter and the rule but never echo the rejected value.
public enum ConnectionParameterError: SwitchyardErrorConvertible, Sendable, Hashable, CustomStringConvertible {
    /// A required parameter (or one a URL template needs) has no value.
    case missing(name: String)
    /// A value was given for a parameter the provider does not declare.
    case unknown(name: String)
    /// The value breaks the parameter's rules.
    case invalid(name: String, reason: String)
    /// The provider definition itself is broken: a template does not parse or resolves to an unacceptable URL.
    case malformedTemplate(detail: String)

    public var description: String {
        switch self {
        case .missing(let name): "Connection parameter '\(printable(name))' is required."
        case .unknown(let name): "Connection parameter '\(printable(name))' is not defined by this provider."
        case .invalid(let name, let reason): "Connection parameter '\(printable(name))' is invalid: \(reason)."
        case .malformedTemplate(let detail): "The provider's URL template is unusable: \(detail)."
        }
    }

    /// The API's form of this error: 422 validation-failed with the message above.
    public var switchyardError: SwitchyardError { .validation(description) }
}

/// `text` cut to 64 characters with anything but printable ASCII replaced, so caller-supplied names are safe to show.
func printable(_ text: String) -> String {
    String(String.UnicodeScalarView(text.unicodeScalars.prefix(64).map { (0x20..<0x7F).contains($0.value) ? $0 : "?" }))
}
