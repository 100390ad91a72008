import Configuration

/// One configuration setting: where it is read from, what it accepts, its default and what it is for.
///
/// Every setting a process reads is defined once, in `SwitchyardSettings`; loading reads values through the
/// definitions, and the README's tables are rendered from them (`ConfigurationDocumentationTests`).
public protocol ConfigurationSetting: Sendable {
    associatedtype Value: Sendable

    /// The environment variable, e.g. `SWITCHYARD_MAX_BODY_BYTES`.
    var environmentKey: String { get }
    /// The value must stay out of logs, errors and documentation.
    var isSecret: Bool { get }
    /// One line for the README.
    var documentation: String { get }
    /// The default as the README shows it: a value, or what happens when the setting is unset.
    var documentedDefault: String { get }
    /// What the setting accepts, as the README shows it.
    var allowedValues: String { get }

    /// The value for `text`, the setting's text (nil when unset); a value it does not accept is an error naming it.
    func value(from text: String?) throws(ConfigurationError) -> Value
}

extension ConfigurationSetting {
    /// The key as swift-configuration reads it: `switchyard.max.body.bytes`, which its environment provider maps
    /// back to `SWITCHYARD_MAX_BODY_BYTES`.
    public var configKey: ConfigKey {
        ConfigKey(environmentKey.lowercased().split(separator: "_").map(String.init))
    }
}
