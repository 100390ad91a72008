import Foundation
import Logging
import SwitchyardCore
import SwitchyardDestinations
import SwitchyardJobs
import SwitchyardMetrics
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardTestSupport
import SwitchyardVault
import Testing

/// A tenant, a loopback receiver (`FakeProviderAPI`, one path per destination) and an outbound client allowed to reach
/// it, for tests of deliveries as executors make them.
struct DestinationFixture: Sendable {
    let environment: TestEnvironment
    let database: Database
    let receiver: FakeProviderAPI
    let outbound: OutboundClient
    let tenant: TenantID
    /// The keyring the destinations' secrets are sealed under, for a child `switchyard executor`.
    let keyringJSON: String
    var logger: Logger { environment.logger }

    /// A schedule of the standard's length whose steps are short enough to watch retries happen.
    static let quickSchedule = DeliveryRetrySchedule(
        steps: Array(repeating: .milliseconds(200), count: DeliveryRetrySchedule.standard.steps.count),
        retryAfterCap: .seconds(5)
    )

    static func with(
        outbound configure: @Sendable (inout OutboundConfiguration) -> Void = { _ in },
        _ body: @Sendable (DestinationFixture) async throws -> Void
    ) async throws {
        let base = try await TestEnvironment.make()
        try await FakeProviderAPI.withRunning { receiver in
            var environment = base
            environment.configuration.outbound.plainHTTPAllowList = [receiver.hostAndPort]
            let configured = environment
            let keyring = LocalKeyring.generate(keyID: "destinations")
            let vault = Vault(provider: LocalKeyProvider(keyring: keyring))
            try await configured.withDatabase(maxConnections: 8, vault: vault) { database in
                var outboundConfiguration = OutboundConfiguration(configured.configuration.outbound)
                // Tests of retries fail a destination many times in a row; the breaker's own test sets it.
                outboundConfiguration.breakerFailureThreshold = 1000
                configure(&outboundConfiguration)
                let outbound = OutboundClient(configuration: outboundConfiguration, metrics: nil)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await outbound.run() }
                    defer { group.cancelAll() }
                    let tenant = try await database.makeTenant("destinations", logger: configured.logger)
                    try await body(
                        DestinationFixture(
                            environment: configured,
                            database: database,
                            receiver: receiver,
                            outbound: outbound,
                            tenant: tenant,
                            keyringJSON: keyring.json()
                        )
                    )
                }
            }
        }
    }

    /// The executor's job kinds, with deliveries made on `schedule` and destinations disabled after `disableAfter`.
    /// Without `jitter`, every retry waits its step's whole delay.
    func registry(
        schedule: DeliveryRetrySchedule = Self.quickSchedule,
        disableAfter: Duration = .seconds(3600),
        jitter: Bool = true,
        metrics: DeliveryMetrics? = nil
    ) -> JobRegistry {
        let unitRandom: @Sendable () -> Double
        if jitter {
            unitRandom = { Double.random(in: 0..<1) }
        } else {
            unitRandom = { 1.0 }
        }
        var registry = JobRegistry.standard()
        registry.registerDeliveries(
            DestinationDelivery(
                database: database,
                outbound: outbound,
                targets: DestinationTargets(database: database, timeToLive: .milliseconds(100)),
                schedule: schedule,
                disableAfter: disableAfter,
                metrics: metrics,
                unitRandom: unitRandom
            ),
            database: database,
            concurrency: 16
        )
        return registry
    }

    /// A destination posting to `path` on the receiver; returns it with its secret.
    func createDestination(
        _ path: String,
        tenant: TenantID? = nil,
        _ configure: (inout DestinationSettings) -> Void = { _ in }
    ) async throws -> (record: DestinationRecord, secret: String) {
        var settings = DestinationSettings(url: receiver.baseURL + path)
        configure(&settings)
        let secret = StandardWebhookSecret.generate().text
        let record = try await database.withTenant(tenant ?? self.tenant, logger: logger) { [settings] in
            try await $0.createDestination(settings, secret: secret)
        }
        return (record, secret)
    }

    @discardableResult
    func recordEvent(_ type: String, integration: UUID? = nil, data: [String: String] = [:], tenant: TenantID? = nil) async throws -> UUID {
        try await database.withTenant(tenant ?? self.tenant, logger: logger) {
            try await $0.recordEvent(type, integrationID: integration, data: data)
        }
    }

    /// Whether `destination` is disabled and its first delivery parked (failed, no attempt to come). Both must be
    /// awaited: the destination is disabled in a transaction of its own, and the attempt's parked outcome is written
    /// with the job's completion just after, so a read between the two sees the delivery still retrying.
    func isDisabledWithDeliveryParked(_ destination: UUID) async throws -> Bool {
        let enabled = try await database.withTenant(tenant, logger: logger) { try await $0.destination(destination) }?.enabled
        let delivery = try await deliveries(to: destination).first
        return enabled == false && delivery?.state == .failed && delivery?.nextAttemptAt == nil
    }

    /// The deliveries of a destination as the deliveries API shows them (delivery jobs, and the deliveries a fan-out
    /// delivered at their first attempt), oldest first, each with its attempts.
    func deliveries(to destination: UUID, tenant: TenantID? = nil) async throws -> [FixtureDelivery] {
        try await database.withTenant(tenant ?? self.tenant, logger: logger) { transaction in
            let listed = try await transaction.deliveries(DeliveryFilter(destinationID: destination), page: PageRequest(limit: 500, cursor: nil))
            var deliveries: [FixtureDelivery] = []
            for record in listed.items.reversed() {
                // A delivery listed and then written by its fan-out in between is read again in its new form.
                guard let detailed = try await transaction.delivery(record.id) else { continue }
                deliveries.append(FixtureDelivery(detailed))
            }
            return deliveries
        }
    }

    /// `eventually`, reporting on a timeout what the deliveries were waiting on: the queue, the receiver's requests
    /// and the database's sessions.
    func eventually(
        _ message: @autoclosure () -> String,
        timeout: Duration = .seconds(60),
        _ condition: () async throws -> Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await SwitchyardTests.eventually(message(), timeout: timeout, diagnosis: diagnosis, condition, sourceLocation: sourceLocation)
    }

    private func diagnosis() async -> String {
        let now = ContinuousClock.now
        let requests = receiver.requests().map { request in
            "\(request.method) \(request.path) " + String(format: "%.2f s ago", (now - request.receivedAt).inSeconds)
        }
        return await environment.queueDiagnosis() + "\nthe receiver's requests:\n" + requests.joined(separator: "\n")
    }

    /// The events of `type`, oldest first.
    func events(_ type: String) async throws -> [EventRecord] {
        try await database.withTenant(tenant, logger: logger) {
            try await $0.events(type: type, integrationID: nil, page: PageRequest(limit: 100, cursor: nil))
        }.items
    }
}

/// A delivery with its attempts, as `DestinationFixture.deliveries(to:)` reads it.
struct FixtureDelivery {
    let id: UUID
    let state: JobState
    let attempts: Int
    let history: [JobAttempt]
    let lastError: String?
    /// Nil once finished, and while its destination is disabled.
    let nextAttemptAt: Date?

    init(_ record: DeliveryRecord) {
        id = record.id
        state = record.state
        attempts = record.attempts
        history = record.history ?? []
        lastError = record.lastError
        nextAttemptAt = record.nextAttemptAt
    }
}
