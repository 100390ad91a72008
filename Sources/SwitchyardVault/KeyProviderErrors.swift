import SwitchyardCore

/// The key service could not be reached, timed out, or answered that it is overloaded: worth retrying later.
///
/// Data keys already unwrapped keep serving from the vault's cache meanwhile; what needs a new data key (a new
/// tenant) or one not cached answers 503 until the service is back. Carries no key material and no request body.
public struct KeyProviderUnavailable: Error, SwitchyardErrorConvertible, CustomStringConvertible, Equatable {
    public let provider: String
    public let reason: String

    public init(provider: String, reason: String) {
        self.provider = provider
        self.reason = reason
    }

    public var description: String { "\(provider) is unavailable: \(reason)" }

    public var switchyardError: SwitchyardError {
        SwitchyardError(.unavailable, code: "key-service-unavailable", detail: "The key service is unavailable. Retry later.")
    }
}

/// The key service answered and refused: access denied, key disabled or not found, a bad signature. Not retried and
/// never answered from a stale cache (a disabled key must stop working); an internal error for the API, logged with
/// the service's error code.
public struct KeyProviderRefused: Error, SwitchyardErrorConvertible, CustomStringConvertible, Equatable {
    public let provider: String
    public let operation: String
    public let code: String
    public let message: String

    public init(provider: String, operation: String, code: String, message: String) {
        self.provider = provider
        self.operation = operation
        self.code = code
        self.message = message
    }

    public var description: String { "\(provider) refused \(operation): \(code)\(message.isEmpty ? "" : ": \(message)")" }

    public var switchyardError: SwitchyardError { .internal(description) }
}
