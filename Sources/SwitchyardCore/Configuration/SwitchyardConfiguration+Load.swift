import Configuration
import Foundation

extension SwitchyardConfiguration {
    /// Which settings a command needs: `migrate` needs no admin key, `dev` provides its own database.
    public struct Requirements: Sendable {
        public var database = true
        public var adminKey = true
        /// `SWITCHYARD_MIGRATION_DATABASE_URL` alone satisfies `database` (for `migrate`).
        public var migrationURLSuffices = false
        public var keyring = true

        public init(database: Bool = true, adminKey: Bool = true, migrationURLSuffices: Bool = false, keyring: Bool = true) {
            self.database = database
            self.adminKey = adminKey
            self.migrationURLSuffices = migrationURLSuffices
            self.keyring = keyring
        }
    }

    /// Reads the configuration from `reader` (environment variables, with flag overrides in front).
    /// Throws the first invalid or missing setting, by name.
    public static func load(
        from reader: ConfigReader,
        requiring requirements: Requirements = .init()
    ) throws(ConfigurationError) -> SwitchyardConfiguration {
        typealias S = SwitchyardSettings
        let settings = SettingsReader(reader: reader)
        let migrationURL = try databaseURL(S.migrationDatabaseURL, settings, required: false)
        // `migrate` runs with the owner's URL alone: the application's URL is then optional.
        let needsApplicationURL = requirements.database && !(requirements.migrationURLSuffices && migrationURL != nil)
        let placeholder = DatabaseURL(host: "127.0.0.1", port: 5432, username: "switchyard", password: nil, database: "switchyard", tlsMode: .disable)
        let url = try databaseURL(S.databaseURL, settings, required: needsApplicationURL) ?? migrationURL ?? placeholder

        // Of several bad settings, the first one read is reported.
        let tls = try tlsFiles(settings)
        let adminKey = try adminKey(settings, required: requirements.adminKey)
        let keyProvider = try KeyProviderConfiguration.load(settings)
        let keyring = try keyringSource(settings, required: requirements.keyring && keyProvider.kind == .local)
        let logging = LoggingConfiguration(level: try settings.value(S.logLevel), format: try settings.value(S.logFormat))
        let outbound = try OutboundSettings.load(settings)
        let oauth = try OAuthSettings.load(settings)
        let maxPageSize = try settings.value(S.maxPageSize)
        return SwitchyardConfiguration(
            database: DatabaseConfiguration(
                url: url,
                migrationURL: migrationURL,
                maxConnections: try settings.value(S.databaseMaxConnections),
                statementTimeoutMilliseconds: try settings.value(S.databaseStatementTimeoutMilliseconds),
                acquireTimeoutMilliseconds: try settings.value(S.databaseAcquireTimeoutMilliseconds),
                callTimeoutMilliseconds: try settings.value(S.databaseCallTimeoutMilliseconds),
                ingestCallTimeoutMilliseconds: try settings.value(S.databaseIngestTimeoutMilliseconds),
                preparedStatements: try settings.value(S.databasePreparedStatements)
            ),
            http: HTTPConfiguration(
                host: try settings.value(S.httpHost),
                port: try settings.value(S.httpPort),
                tls: tls,
                idleTimeoutSeconds: try settings.value(S.httpIdleTimeoutSeconds)
            ),
            limits: LimitsConfiguration(
                maxBodyBytes: try settings.value(S.maxBodyBytes),
                maxPageSize: maxPageSize,
                rateLimitPerSecond: Double(try settings.value(S.rateLimitPerSecond)),
                rateLimitBurst: try settings.value(S.rateLimitBurst),
                rateLimitScope: try settings.value(S.rateLimitScope)
            ),
            logging: logging,
            adminKey: adminKey,
            keyring: keyring,
            keyProvider: keyProvider,
            outbound: outbound,
            jobs: try JobsSettings.load(settings),
            oauth: oauth,
            usage: try UsageSettings.load(settings),
            portal: try PortalSettings.load(settings)
        )
    }

    private static func databaseURL(
        _ setting: TextSetting<String?>,
        _ settings: SettingsReader,
        required: Bool
    ) throws(ConfigurationError) -> DatabaseURL? {
        guard let text = try settings.value(setting) else {
            if required {
                throw ConfigurationError(
                    variable: setting.environmentKey,
                    problem: "is required: postgres://USER:PASSWORD@HOST:PORT/DATABASE (or run `switchyard dev` for a private database)"
                )
            }
            return nil
        }
        return try DatabaseURL(parsing: text, variable: setting.environmentKey)
    }

    private static func tlsFiles(_ settings: SettingsReader) throws(ConfigurationError) -> HTTPConfiguration.TLSFiles? {
        let certificate = SwitchyardSettings.tlsCertificatePath
        let privateKey = SwitchyardSettings.tlsPrivateKeyPath
        switch (try settings.value(certificate), try settings.value(privateKey)) {
        case (nil, nil): return nil
        case (let certificatePath?, let privateKeyPath?): return .init(certificatePath: certificatePath, privateKeyPath: privateKeyPath)
        case (nil, _):
            throw ConfigurationError(variable: certificate.environmentKey, problem: "must be set together with \(privateKey.environmentKey)")
        case (_, nil):
            throw ConfigurationError(variable: privateKey.environmentKey, problem: "must be set together with \(certificate.environmentKey)")
        }
    }

    /// The operator key; when `required`, it must be set and long enough.
    private static func adminKey(_ settings: SettingsReader, required: Bool) throws(ConfigurationError) -> String? {
        let setting = SwitchyardSettings.adminKey
        let minimumLength = SwitchyardSettings.adminKeyMinimumLength
        let adminKey = try settings.value(setting)
        guard required else { return adminKey }
        guard let adminKey else {
            throw ConfigurationError(
                variable: setting.environmentKey,
                problem: "is required: the platform operator's key (at least \(minimumLength) random characters)"
            )
        }
        guard adminKey.count >= minimumLength else {
            throw ConfigurationError(variable: setting.environmentKey, problem: "must be at least \(minimumLength) characters long")
        }
        return adminKey
    }

    private static func keyringSource(_ settings: SettingsReader, required: Bool) throws(ConfigurationError) -> KeyringSource? {
        let file = SwitchyardSettings.keyringFile
        let inline = SwitchyardSettings.keyring
        switch (try settings.value(file), try settings.value(inline)) {
        case (let path?, nil): return .file(path: path)
        case (nil, let json?): return .inline(json: json)
        case (nil, nil):
            guard !required else {
                throw ConfigurationError(
                    variable: file.environmentKey,
                    problem:
                        "is required: the keyring file written by `switchyard keys generate --output FILE` (or its JSON in \(inline.environmentKey))"
                )
            }
            return nil
        case (_?, _?):
            throw ConfigurationError(
                variable: inline.environmentKey,
                problem: "set either \(file.environmentKey) or \(inline.environmentKey), not both"
            )
        }
    }
}

extension OutboundSettings {
    static func load(_ settings: SettingsReader) throws(ConfigurationError) -> OutboundSettings {
        typealias S = SwitchyardSettings
        var outbound = OutboundSettings()
        outbound.connectTimeoutMilliseconds = try settings.value(S.outboundConnectTimeoutMilliseconds)
        outbound.readTimeoutMilliseconds = try settings.value(S.outboundReadTimeoutMilliseconds)
        outbound.attemptTimeoutMilliseconds = try settings.value(S.outboundAttemptTimeoutMilliseconds)
        outbound.maxResponseBytes = try settings.value(S.outboundMaxResponseBytes)
        outbound.maxRateLimitWaitMilliseconds = try settings.value(S.outboundMaxRateLimitWaitMilliseconds)
        outbound.breakerFailures = try settings.value(S.outboundBreakerFailures)
        outbound.breakerCoolDownMilliseconds = try settings.value(S.outboundBreakerCoolDownMilliseconds)
        outbound.plainHTTPAllowList = try settings.value(S.outboundHTTPAllowList)
        return outbound
    }
}

extension OAuthSettings {
    static func load(_ settings: SettingsReader) throws(ConfigurationError) -> OAuthSettings {
        typealias S = SwitchyardSettings
        var oauth = OAuthSettings()
        if let publicURL = try settings.value(S.publicURL) {
            guard let components = URLComponents(string: publicURL), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
                components.host?.isEmpty == false, components.query == nil, components.fragment == nil, components.user == nil
            else {
                throw ConfigurationError(
                    variable: S.publicURL.environmentKey,
                    problem: "must be an http(s) URL such as https://switchyard.example.com, without query or fragment"
                )
            }
            oauth.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        }
        oauth.refreshSkewSeconds = try settings.value(S.oauthRefreshSkewSeconds)
        oauth.connectSessionTTLSeconds = try settings.value(S.connectSessionTTLSeconds)
        return oauth
    }
}

extension KeyProviderConfiguration {
    static func load(_ settings: SettingsReader) throws(ConfigurationError) -> KeyProviderConfiguration {
        typealias S = SwitchyardSettings
        let kind = try settings.value(S.keyProvider)
        // All four are read whatever is set, so every process reads every setting it documents.
        let (regionSetting, endpointSetting) = (try settings.value(S.awsKMSRegion), try settings.value(S.awsKMSEndpoint))
        guard let keyID = try settings.value(S.awsKMSKeyID) else {
            if kind == .awsKMS {
                throw ConfigurationError(
                    variable: S.awsKMSKeyID.environmentKey,
                    problem: "is required when \(S.keyProvider.environmentKey) is aws-kms: the key id, key ARN or alias (alias/NAME) of the KMS key"
                )
            }
            return KeyProviderConfiguration(kind: kind)
        }
        let arnRegion =
            keyID.hasPrefix("arn:") ? keyID.split(separator: ":", omittingEmptySubsequences: false).dropFirst(3).first.map(String.init) : nil
        let region =
            regionSetting ?? settings.standardVariable("AWS_REGION") ?? settings.standardVariable("AWS_DEFAULT_REGION")
            ?? arnRegion.flatMap { $0.isEmpty ? nil : $0 }
        guard let region else {
            throw ConfigurationError(variable: S.awsKMSRegion.environmentKey, problem: "is required: the region of the KMS key (or set AWS_REGION)")
        }
        guard region.wholeMatch(of: /[a-z0-9-]{1,40}/) != nil else {
            throw ConfigurationError(variable: S.awsKMSRegion.environmentKey, problem: "must be an AWS region such as eu-west-1")
        }
        var endpoint: URL?
        if let text = endpointSetting {
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false,
                url.path.isEmpty || url.path == "/", url.query == nil, url.user == nil
            else {
                throw ConfigurationError(
                    variable: S.awsKMSEndpoint.environmentKey,
                    problem: "must be an http(s) URL without path, such as https://kms.eu-west-1.amazonaws.com or http://127.0.0.1:5000"
                )
            }
            endpoint = url
        }
        guard let accessKeyID = settings.standardVariable("AWS_ACCESS_KEY_ID") else {
            throw ConfigurationError(
                variable: "AWS_ACCESS_KEY_ID",
                problem: "is required with \(S.awsKMSKeyID.environmentKey): the access key id of AWS credentials"
            )
        }
        guard let secretAccessKey = settings.standardVariable("AWS_SECRET_ACCESS_KEY", secret: true) else {
            throw ConfigurationError(
                variable: "AWS_SECRET_ACCESS_KEY",
                problem: "is required with \(S.awsKMSKeyID.environmentKey): the secret access key of AWS credentials"
            )
        }
        let credentials = AWSCredentials(
            accessKeyID: accessKeyID,
            secretAccessKey: secretAccessKey,
            sessionToken: settings.standardVariable("AWS_SESSION_TOKEN", secret: true)
        )
        return KeyProviderConfiguration(
            kind: kind,
            awsKMS: AWSKMSSettings(keyID: keyID, region: region, endpoint: endpoint, credentials: credentials)
        )
    }
}
