import SwitchyardTestSupport
import Testing

/// Polls `condition`, a read of a sync change feed, until it holds. The feed hides the changes of transactions that
/// started after the oldest one still open anywhere in the cluster, and the suites share one cluster: another suite's
/// long transaction holds every feed back. So this waits longer than `eventually`, and a timeout names the
/// transactions that held the horizon.
func eventuallyInFeed(
    _ message: @autoclosure () -> String,
    timeout: Duration = .seconds(120),
    _ condition: () async throws -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    let holders = await TestPostgres.shared.transactionsHoldingTheHorizon()
    Issue.record("timed out waiting: \(message()); transactions holding the horizon:\n\(holders)", sourceLocation: sourceLocation)
    throw TestFailure("timed out waiting: \(message())")
}
