import PostgresNIO

extension QueueTransaction {
    /// Jobs of `kinds` not finished yet (queued, running, or failed with a retry scheduled), across tenants.
    public func unfinishedJobs(kinds: [String]) async throws -> Int {
        try await query(
            """
            SELECT (SELECT count(*) FROM jobs WHERE kind = ANY(\(kinds)) AND state IN ('queued', 'failed'))
                 + (SELECT count(*) FROM jobs WHERE kind = ANY(\(kinds)) AND state = 'running')
            """
        ).decode(Int.self).collect().first ?? 0
    }

    /// The request body of one delivery, for a load generator to send bodies of the same size.
    public func sampleDeliveryBody() async throws -> String? {
        try await query("SELECT payload->>'body' FROM jobs WHERE kind IN ('destination.fan_out', 'destination.deliver') LIMIT 1" as PostgresQuery)
            .decode(String.self).collect().first
    }
}

extension QueueTransaction {
    /// Destinations disabled, across tenants (a metric).
    public func disabledDestinations() async throws -> Int {
        try await query("SELECT count(*) FROM destinations WHERE NOT enabled" as PostgresQuery).decode(Int.self).collect().first ?? 0
    }
}
