import Foundation
import Logging
import SwitchyardAPI
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardProviders
import SwitchyardSyncs

/// `switchyard bench sync`: a full sync of a loopback provider's records through the whole path (fetch over HTTP,
/// parse, hash, upsert, checkpoint, delete detection), against the raw ceiling of the same pages upserted by one
/// prepared statement each with no HTTP; the full run's peak RSS growth; then an incremental run after 1% of the
/// records changed, and a second full run after 1% were removed (delete detection).
public struct SyncBenchmark: Sendable {
    static let providerID = "bench-records"
    static let syncName = "items"
    static let model = "bench_item"
    static let apiKey = "bench-records-key"

    let configuration: SwitchyardConfiguration
    let database: Database
    let records: Int
    let recordBytes: Int
    let pageSize: Int
    let logger: Logger

    /// `database` must be running (its pool serves the runner's transactions).
    public init(configuration: SwitchyardConfiguration, database: Database, records: Int, recordBytes: Int, pageSize: Int, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.records = max(1, records)
        self.recordBytes = recordBytes
        self.pageSize = max(1, pageSize)
        self.logger = logger
    }

    public func run() async throws -> SyncBenchmarkReport {
        let provider = RecordsProvider(apiKey: Self.apiKey, recordBytes: recordBytes)
        provider.fill(count: records)
        provider.setRecording(false)
        return try await RecordsProvider.withRunning(provider) { provider in
            var outbound = configuration.outbound
            outbound.plainHTTPAllowList = [provider.hostAndPort]
            let client = OutboundClient(configuration: OutboundConfiguration(outbound), metrics: nil)
            do {
                let report = try await run(provider, outbound: client)
                try await client.shutdown()
                return report
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    private func run(_ provider: RecordsProvider, outbound: OutboundClient) async throws -> SyncBenchmarkReport {
        // Built as the executor builds it (JobRegistry.executor).
        let runner = SyncRunner(
            database: database,
            caller: IntegrationCaller(database: database, outbound: outbound, refreshSkewSeconds: configuration.oauth.refreshSkewSeconds)
        )
        let setup = try await setUp(provider)

        // The ceiling runs twice, into fresh integrations, before and after the full run; the faster pass counts, so
        // that neither a cold start nor a fuller table is what the full run is compared with.
        let ceilingBefore = try await ceiling(provider, setup: setup, integration: setup.ceilingIntegrations.before)
        // Everything the provider holds is in memory now: what the full run adds on top is its own.
        ProcessMemory.resetPeak()
        let residentBefore = ProcessMemory.resident
        let fullStart = ContinuousClock.now
        let full = try await syncRun(.full, runner: runner, setup: setup)
        let fullSeconds = (ContinuousClock.now - fullStart).inSeconds
        let peakResident = ProcessMemory.peakResident
        guard full.status == .succeeded, full.added == records else {
            throw BenchmarkFailure("the full run ended \(full.status.rawValue) having added \(full.added) of \(records) records: \(full.error ?? "")")
        }

        let ceilingAfter = try await ceiling(provider, setup: setup, integration: setup.ceilingIntegrations.after)

        // 1% of the records change (spread over the listing); they move to the end of the provider's change order.
        let changed = Array(stride(from: 1, through: records, by: 100))
        for id in changed { provider.put(id, name: "record \(id), changed") }
        let incrementalStart = ContinuousClock.now
        let incremental = try await syncRun(.incremental, runner: runner, setup: setup)
        let incrementalSeconds = (ContinuousClock.now - incrementalStart).inSeconds
        guard incremental.status == .succeeded, incremental.mode == .incremental else {
            throw BenchmarkFailure(
                "the incremental run ended \(incremental.status.rawValue) as \(incremental.mode.rawValue): \(incremental.error ?? "")"
            )
        }

        // Delete detection at scale: 1% of the records go, and a second full run marks exactly those deleted.
        let removed = Array(stride(from: min(50, records), through: records, by: 100))
        for id in removed { provider.remove(id) }
        let rescanStart = ContinuousClock.now
        let rescan = try await syncRun(.full, runner: runner, setup: setup)
        let rescanSeconds = (ContinuousClock.now - rescanStart).inSeconds
        guard rescan.status == .succeeded else {
            throw BenchmarkFailure("the second full run ended \(rescan.status.rawValue): \(rescan.error ?? "")")
        }

        return SyncBenchmarkReport(
            records: records,
            recordBytes: recordBytes,
            pageSize: pageSize,
            fullSeconds: fullSeconds,
            fullPages: full.pages,
            ceilingSeconds: min(ceilingBefore, ceilingAfter),
            ceilingPasses: [ceilingBefore, ceilingAfter],
            residentBefore: residentBefore,
            peakResident: peakResident,
            incrementalSeconds: incrementalSeconds,
            incrementalPages: incremental.pages,
            changed: changed.count,
            incrementalAdded: incremental.added,
            incrementalUpdated: incremental.updated,
            incrementalUnchanged: incremental.unchanged,
            removed: removed.count,
            rescanSeconds: rescanSeconds,
            rescanDeleted: rescan.deleted,
            rescanWritten: rescan.added + rescan.updated
        )
    }

    private struct Setup {
        let tenant: TenantID
        let sync: ResolvedSync
        let integration: IntegrationRecord
        let ceilingIntegrations: (before: IntegrationRecord, after: IntegrationRecord)
    }

    /// A tenant with a custom api-key provider on the loopback provider, its sync definition, and two connected
    /// integrations: one for the sync path, one for each pass of the ceiling (so that every pass writes fresh rows).
    private func setUp(_ provider: RecordsProvider) async throws -> Setup {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let tenant = try await database.withOperator(logger: logger) { try await $0.createTenant(slug: "bench-\(suffix)", name: "Sync benchmark") }
            .id
        let definition = SyncDefinition(
            name: Self.syncName,
            model: Self.model,
            request: SyncRequestTemplate(path: "/cursor/items", query: ["limit": "\(pageSize)"]),
            pagination: SyncPagination(.cursor, nextCursor: try JSONPointer("/next_cursor"), parameter: .query("after")),
            records: SyncRecordLocation(pointer: try JSONPointer("/data"), id: try JSONPointer("/id"), modified: try JSONPointer("/updated_at")),
            incremental: SyncIncremental(parameter: .query("since"))
        )
        try definition.validate()
        let providerJSON = """
            {"id":"\(Self.providerID)","display_name":"Benchmark records","auth_type":"api_key",
             "credentials":{"fields":[{"name":"api_key","description":"The API key","secret":true}],
                            "injection":{"type":"header","name":"Authorization","value":"Bearer {api_key}"}},
             "api_base_url":"\(provider.baseURL)"}
            """
        return try await database.withTenant(tenant, logger: logger) { transaction in
            _ = try await transaction.saveCustomProvider(id: Self.providerID, definition: providerJSON)
            _ = try await transaction.saveSyncDefinition(
                provider: Self.providerID,
                name: Self.syncName,
                definition: try SyncDirectory.encode(definition)
            )
            guard let sync = try await SyncDirectory.sync(provider: Self.providerID, name: Self.syncName, in: transaction) else {
                throw BenchmarkFailure("the benchmark's sync definition was not found after saving it")
            }
            func integration(_ name: String) async throws -> IntegrationRecord {
                try await transaction.createIntegration(
                    NewIntegration(
                        provider: Self.providerID,
                        displayName: name,
                        status: .connected,
                        connectionParameters: [:],
                        endUserID: nil,
                        tags: [],
                        credential: .apiKey(fields: ["api_key": Self.apiKey])
                    )
                )
            }
            return Setup(
                tenant: tenant,
                sync: sync,
                integration: try await integration("sync path"),
                ceilingIntegrations: (try await integration("ceiling before"), try await integration("ceiling after"))
            )
        }
    }

    /// One pass of the raw ceiling; its timed seconds.
    private func ceiling(_ provider: RecordsProvider, setup: Setup, integration: IntegrationRecord) async throws -> Double {
        let ceiling = try await RawUpsertCeiling.run(
            url: configuration.database.url,
            provider: provider,
            tenant: setup.tenant,
            integration: integration.id,
            model: Self.model,
            pageSize: pageSize,
            logger: logger
        )
        guard ceiling.records == records, ceiling.written == records else {
            throw BenchmarkFailure("the raw ceiling wrote \(ceiling.written) of \(ceiling.records) records, expected \(records)")
        }
        return ceiling.seconds
    }

    /// Starts a run as a trigger does, runs it to its end in this process (no executor), and returns its record.
    /// Its `sync.run` job, never claimed, is cancelled afterwards so that the next run can start.
    private func syncRun(_ mode: SyncRunMode, runner: SyncRunner, setup: Setup) async throws -> SyncRunRecord {
        let started = try await database.withTenant(setup.tenant, logger: logger) {
            try await SyncRunStart.start(setup.sync, integration: setup.integration, mode: mode, trigger: .api, in: $0)
        }
        guard started.created else { throw BenchmarkFailure("a run of the benchmark's sync was already active") }
        let outcome = try await runner.run(
            started.run.id,
            payload: SyncRunPayload(integrationID: setup.integration.id, sync: Self.syncName),
            tenant: setup.tenant,
            isLastAttempt: true,
            logger: logger
        )
        if case .retry(let message, _) = outcome { throw BenchmarkFailure("the \(mode.rawValue) run asked to be retried: \(message)") }
        return try await database.withTenant(setup.tenant, logger: logger) { transaction in
            _ = try await transaction.cancelJob(started.run.id)
            guard let run = try await transaction.syncRun(started.run.id) else { throw BenchmarkFailure("the run's record is gone") }
            return run
        }
    }
}
