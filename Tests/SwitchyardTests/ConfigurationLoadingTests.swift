import Configuration
import SwitchyardCore
import Synchronization
import Testing

/// `SwitchyardConfiguration.load` reads every setting through its definition in `SwitchyardSettings`.
@Suite("Configuration loading")
struct ConfigurationLoadingTests {
    typealias S = SwitchyardSettings
    static let loaded = S.general + S.jobs

    static func load(_ variables: [String: String], reporter: AccessRecorder? = nil) throws(ConfigurationError) -> SwitchyardConfiguration {
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: variables), accessReporter: reporter)
        return try SwitchyardConfiguration.load(from: reader, requiring: .init(database: false, adminKey: false, keyring: false))
    }

    static func problem(_ variables: [String: String]) -> String? {
        do {
            _ = try load(variables)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("swift-configuration reads each setting's key from the setting's environment variable")
    func configKeyMatchesEnvironmentKey() {
        for setting in S.all {
            let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: [setting.environmentKey: "x"]))
            #expect(reader.string(forKey: setting.configKey) == "x", "\(setting.environmentKey)")
        }
    }

    @Test("loading reads exactly the general and jobs settings, and the secrets as secrets")
    func readsEverySettingThroughItsDefinition() throws {
        let recorder = AccessRecorder()
        let secrets = [
            S.databaseURL.environmentKey: "postgres://app:app-password@db/switchyard",
            S.migrationDatabaseURL.environmentKey: "postgres://owner:owner-password@db/switchyard",
            S.adminKey.environmentKey: String(repeating: "k", count: S.adminKeyMinimumLength),
            S.keyring.environmentKey: "{}",
        ]
        _ = try Self.load(secrets, reporter: recorder)
        let reads = recorder.reads.withLock { $0 }
        let settings = Dictionary(uniqueKeysWithValues: Self.loaded.map { ($0.configKey.components.joined(separator: "."), $0) })
        #expect(Set(reads.keys) == Set(settings.keys))
        #expect(Set(Self.loaded.filter(\.isSecret).map(\.environmentKey)) == Set(secrets.keys))
        for (key, isSecret) in reads where settings[key]?.isSecret == true {
            #expect(isSecret == true, "\(key) should be read as a secret")
        }
    }

    @Test("unset settings take their definitions' defaults")
    func defaults() throws {
        let configuration = try Self.load([:])
        #expect(configuration.jobs == JobsSettings())
        #expect(configuration.outbound == OutboundSettings())
        #expect(configuration.oauth == OAuthSettings())
        #expect(configuration.database.maxConnections == S.databaseMaxConnections.defaultValue)
        #expect(configuration.database.ingestCallTimeoutMilliseconds == S.databaseIngestTimeoutMilliseconds.defaultValue)
        #expect(configuration.database.preparedStatements && S.databasePreparedStatements.defaultValue)
        #expect(configuration.http.host == S.httpHost.defaultValue)
        #expect(configuration.http.port == S.httpPort.defaultValue)
        #expect(configuration.limits.maxBodyBytes == S.maxBodyBytes.defaultValue)
        #expect(configuration.limits.rateLimitPerSecond == Double(S.rateLimitPerSecond.defaultValue))
        #expect(configuration.logging.level == S.logLevel.defaultValue)
        #expect(configuration.logging.format == S.logFormat.defaultValue)
    }

    @Test("every whole number is accepted at its range's ends and refused beyond them, naming the variable and the range")
    func ranges() throws {
        for case let setting as IntegerSetting in Self.loaded {
            let range = setting.range
            // The retry maximum's minimum is the retry base, 1000 by default.
            let minimum =
                setting.environmentKey == S.jobRetryMaxMilliseconds.environmentKey ? S.jobRetryBaseMilliseconds.defaultValue : range.lowerBound
            for value in [minimum, range.upperBound] {
                #expect(Self.problem([setting.environmentKey: String(value)]) == nil, "\(setting.environmentKey)=\(value)")
            }
            for value in ["\(minimum - 1)", "\(range.upperBound + 1)", "ten"] {
                #expect(
                    Self.problem([setting.environmentKey: value])
                        == "\(setting.environmentKey): must be a whole number from \(minimum) to \(range.upperBound), got '\(value)'"
                )
            }
        }
    }

    @Test("the retry maximum, when set, may not be below the retry base")
    func retryMaximumFollowsBase() throws {
        let base = S.jobRetryBaseMilliseconds.environmentKey
        let maximum = S.jobRetryMaxMilliseconds.environmentKey
        #expect(Self.problem([base: "5000", maximum: "4000"]) == "\(maximum): must be a whole number from 5000 to 604800000, got '4000'")
        #expect(try Self.load([base: "5000", maximum: "5000"]).jobs.retryMaxMilliseconds == 5000)
        #expect(try Self.load([base: "86400000"]).jobs.retryMaxMilliseconds == S.jobRetryMaxMilliseconds.defaultValue)
    }

    @Test("flags and choices: the words they accept, and the messages for others")
    func flagsAndChoices() throws {
        let pollOnly = S.queuePollOnly.environmentKey
        for (text, value) in [("TRUE", true), ("1", true), ("yes", true), ("false", false), ("0", false), ("No", false), ("", false)] {
            #expect(try Self.load([pollOnly: text]).jobs.pollOnly == value, "\(text)")
        }
        #expect(Self.problem([pollOnly: "maybe"]) == "SWITCHYARD_QUEUE_POLL_ONLY: must be true or false, got 'maybe'")
        // Behind PgBouncer before 1.21 (README, "Behind PgBouncer").
        #expect(try Self.load([S.databasePreparedStatements.environmentKey: "false"]).database.preparedStatements == false)
        #expect(try Self.load([S.logLevel.environmentKey: "debug"]).logging.level == .debug)
        #expect(
            Self.problem([S.logLevel.environmentKey: "INFO"])
                == "SWITCHYARD_LOG_LEVEL: must be one of trace, debug, info, notice, warning, error, critical"
        )
        #expect(Self.problem([S.logFormat.environmentKey: "xml"]) == "SWITCHYARD_LOG_FORMAT: must be text or json")
    }

    @Test("errors about secrets do not show their values")
    func secretsStayOutOfErrors() {
        let url = "postgres://app:hunter2-password@/switchyard"
        #expect(Self.problem([S.databaseURL.environmentKey: url])?.contains("hunter2") == false)
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: [S.adminKey.environmentKey: "hunter2"]))
        let error = #expect(throws: ConfigurationError.self) {
            try SwitchyardConfiguration.load(from: reader, requiring: .init(database: false, keyring: false))
        }
        #expect(error?.description == "SWITCHYARD_ADMIN_KEY: must be at least 32 characters long")
    }
}

/// Which keys a load read, and whether each value read was marked secret (nil when unset).
final class AccessRecorder: AccessReporter {
    let reads = Mutex<[String: Bool?]>([:])

    func report(_ event: AccessEvent) {
        let key = event.metadata.key.components.joined(separator: ".")
        let isSecret = (try? event.result.get())?.map(\.isSecret)
        reads.withLock { $0[key] = isSecret }
    }
}

/// `SWITCHYARD_KEY_PROVIDER` and the AWS KMS settings (issue 17).
@Suite("Configuration loading: the key provider")
struct KeyProviderConfigurationTests {
    typealias S = SwitchyardSettings
    static let credentials = ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-example"]

    @Test("aws-kms needs a key id, a region and credentials, each error naming its variable; the keyring is then optional")
    func awsKMSRequirements() throws {
        #expect(ConfigurationLoadingTests.problem([S.keyProvider.environmentKey: "aws-kms"])?.hasPrefix("SWITCHYARD_AWS_KMS_KEY_ID:") == true)
        #expect(ConfigurationLoadingTests.problem([S.keyProvider.environmentKey: "vault"])?.hasPrefix("SWITCHYARD_KEY_PROVIDER:") == true)
        let alias = [S.keyProvider.environmentKey: "aws-kms", S.awsKMSKeyID.environmentKey: "alias/switchyard"]
        #expect(ConfigurationLoadingTests.problem(alias.merging(Self.credentials) { $1 })?.hasPrefix("SWITCHYARD_AWS_KMS_REGION:") == true)
        #expect(ConfigurationLoadingTests.problem(alias.merging(["AWS_REGION": "eu-west-1"]) { $1 })?.hasPrefix("AWS_ACCESS_KEY_ID:") == true)
        #expect(
            ConfigurationLoadingTests.problem(
                alias.merging(Self.credentials) { $1 }.merging([S.awsKMSEndpoint.environmentKey: "ftp://x/y", "AWS_REGION": "eu-west-1"]) { $1 }
            )?
            .hasPrefix("SWITCHYARD_AWS_KMS_ENDPOINT:") == true
        )

        let arn = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        let variables = [S.keyProvider.environmentKey: "aws-kms", S.awsKMSKeyID.environmentKey: arn, "AWS_SESSION_TOKEN": "token-example"]
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: variables.merging(Self.credentials) { $1 }))
        let configuration = try SwitchyardConfiguration.load(from: reader, requiring: .init(database: false, adminKey: false, keyring: true))
        #expect(configuration.keyring == nil)
        let kms = try #require(configuration.keyProvider.awsKMS)
        #expect(configuration.keyProvider.kind == .awsKMS)
        #expect(kms.region == "eu-central-1", "the region of the key's ARN")
        #expect(kms.endpoint.absoluteString == "https://kms.eu-central-1.amazonaws.com")
        #expect(kms.credentials == AWSCredentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "secret-example", sessionToken: "token-example"))
        #expect(!"\(configuration.keyProvider)".contains("secret-example") && !"\(configuration.keyProvider)".contains("token-example"))
    }
}
