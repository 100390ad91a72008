/// Every setting a Switchyard process reads, each defined once (see `ConfigurationSetting`).
///
/// Each list is one of the README's tables, in its order: `general` under "Configuration", `jobs` under "Jobs",
/// `development` for `switchyard dev`.
public enum SwitchyardSettings {
    public static let all: [any ConfigurationSetting] = general + jobs + development

    public static let general: [any ConfigurationSetting] = [
        databaseURL, migrationDatabaseURL, databaseMaxConnections, databaseStatementTimeoutMilliseconds,
        databaseAcquireTimeoutMilliseconds, databaseCallTimeoutMilliseconds, databaseIngestTimeoutMilliseconds, databasePreparedStatements,
        httpHost, httpPort, tlsCertificatePath, tlsPrivateKeyPath, httpIdleTimeoutSeconds,
        adminKey, maxBodyBytes, maxPageSize, rateLimitPerSecond, rateLimitBurst, rateLimitScope, keyringFile, keyring,
        keyProvider, awsKMSKeyID, awsKMSRegion, awsKMSEndpoint,
        outboundConnectTimeoutMilliseconds, outboundReadTimeoutMilliseconds, outboundAttemptTimeoutMilliseconds,
        outboundMaxResponseBytes, outboundMaxRateLimitWaitMilliseconds, outboundBreakerFailures,
        outboundBreakerCoolDownMilliseconds, outboundHTTPAllowList,
        publicURL, oauthRefreshSkewSeconds, connectSessionTTLSeconds, logLevel, logFormat,
        usageFlushIntervalMilliseconds, usageRetentionDays, portalLinkTTLSeconds, portalSessionTTLSeconds,
    ]

    public static let jobs: [any ConfigurationSetting] = [
        executorConcurrency, executorTenantConcurrency, executorClaimBatch, executorShutdownTimeoutMilliseconds,
        jobLeaseMilliseconds, jobRunTimeoutMilliseconds, queuePollIntervalMilliseconds, queuePollOnly,
        jobRetryBaseMilliseconds, jobRetryMaxMilliseconds, schedulerTickMilliseconds,
        jobRetentionHours, deadJobRetentionHours, webhookRetentionHours, syncDeletedRecordRetentionHours,
        destinationDisableAfterHours,
    ]

    public static let development: [any ConfigurationSetting] = [postgresBin, noInstall]
}
