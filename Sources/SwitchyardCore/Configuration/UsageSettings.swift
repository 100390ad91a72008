/// How usage counters are written and kept (see `UsageMeter`, and `UsageFlusher` in SwitchyardPostgres).
public struct UsageSettings: Sendable, Equatable {
    public var flushIntervalMilliseconds = SwitchyardSettings.usageFlushIntervalMilliseconds.defaultValue
    public var retentionDays = SwitchyardSettings.usageRetentionDays.defaultValue

    public init() {}

    static func load(_ settings: SettingsReader) throws(ConfigurationError) -> UsageSettings {
        var usage = UsageSettings()
        usage.flushIntervalMilliseconds = try settings.value(SwitchyardSettings.usageFlushIntervalMilliseconds)
        usage.retentionDays = try settings.value(SwitchyardSettings.usageRetentionDays)
        return usage
    }
}
