extension SwitchyardSettings {
    public static let usageFlushIntervalMilliseconds = IntegerSetting(
        "SWITCHYARD_USAGE_FLUSH_INTERVAL_MS",
        default: 5000,
        in: 100...300_000,
        "how often each process adds the usage it counted to the database (one statement)"
    )
    public static let usageRetentionDays = IntegerSetting(
        "SWITCHYARD_USAGE_RETENTION_DAYS",
        default: 400,
        in: 1...3650,
        "hourly usage counters older than this are deleted"
    )
}
