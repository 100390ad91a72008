import SwitchyardTestSupport
import Testing

/// Polls `condition`, a read of a sync change feed, until it holds. The feed hides the changes of transactions that
/// started after the oldest one still open anywhere in the cluster, and the suites share one cluster: another suite's
/// long transaction holds every feed back. So this waits longer than `eventually`'s default, and a timeout names the
/// transactions that held the horizon.
func eventuallyInFeed(
    _ message: @autoclosure () -> String,
    timeout: Duration = .seconds(120),
    _ condition: () async throws -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    try await eventually(
        message(),
        timeout: timeout,
        diagnosis: { "transactions holding the horizon:\n\(await TestPostgres.shared.transactionsHoldingTheHorizon())" },
        condition,
        sourceLocation: sourceLocation
    )
}
