import SwitchyardCore
import SwitchyardPostgres
import SwitchyardTestSupport

extension TestEnvironment {
    /// This environment's configuration with the API's rate limits out of the way (a benchmark measures the routes, not
    /// the limit), and a database on it that is not running yet: the benchmark's server runs it, as `serve` does.
    func benchmarkSetUp() throws -> (configuration: SwitchyardConfiguration, database: Database) {
        var configuration = configuration
        configuration.limits.rateLimitPerSecond = 1_000_000
        configuration.limits.rateLimitBurst = 1_000_000
        let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
        return (configuration, database)
    }
}
