/// On or off: `true`, `1` or `yes`; `false`, `0` or `no` (any case).
public struct FlagSetting: ConfigurationSetting {
    public let environmentKey: String
    public let defaultValue: Bool
    public let documentation: String
    public var isSecret: Bool { false }
    public var documentedDefault: String { String(defaultValue) }
    public var allowedValues: String { "`true` or `false`" }

    public init(_ environmentKey: String, default defaultValue: Bool, _ documentation: String) {
        self.environmentKey = environmentKey
        self.defaultValue = defaultValue
        self.documentation = documentation
    }

    public func value(from text: String?) throws(ConfigurationError) -> Bool {
        switch text?.lowercased() {
        case nil: return defaultValue
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        case let other?: throw ConfigurationError(variable: environmentKey, problem: "must be true or false, got '\(other)'")
        }
    }
}
