import Foundation

/// Text taken as it is: a host, a path, a URL, a key, a list. Whatever checks it needs beyond that (a URL's shape, a
/// key's length, two paths set together) are made where it is loaded, naming the setting.
public struct TextSetting<Value: Sendable>: ConfigurationSetting {
    public let environmentKey: String
    public let defaultValue: Value
    public let isSecret: Bool
    public let documentedDefault: String
    public let allowedValues: String
    public let documentation: String
    private let read: @Sendable (String) -> Value

    public func value(from text: String?) -> Value {
        text.map(read) ?? defaultValue
    }
}

extension TextSetting where Value == String? {
    /// Text that may be unset; `unset` says what happens then.
    public init(_ environmentKey: String, secret: Bool = false, unset: String, accepts: String, _ documentation: String) {
        self.init(
            environmentKey: environmentKey,
            defaultValue: nil,
            isSecret: secret,
            documentedDefault: unset,
            allowedValues: accepts,
            documentation: documentation,
            read: { $0 }
        )
    }
}

extension TextSetting where Value == String {
    /// Text with a default.
    public init(_ environmentKey: String, default defaultValue: String, accepts: String, _ documentation: String) {
        self.init(
            environmentKey: environmentKey,
            defaultValue: defaultValue,
            isSecret: false,
            documentedDefault: defaultValue,
            allowedValues: accepts,
            documentation: documentation,
            read: { $0 }
        )
    }
}

extension TextSetting where Value == [String] {
    /// A comma-separated list, empty when unset; blanks around items and empty items are ignored.
    public init(_ environmentKey: String, listOf items: String, unset: String, _ documentation: String) {
        self.init(
            environmentKey: environmentKey,
            defaultValue: [],
            isSecret: false,
            documentedDefault: unset,
            allowedValues: "comma-separated \(items)",
            documentation: documentation,
            read: { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        )
    }
}
