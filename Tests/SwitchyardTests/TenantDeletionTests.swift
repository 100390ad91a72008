import Foundation
import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardJobs
import SwitchyardTestSupport
import Testing

@testable import SwitchyardPostgres

/// Jobs, audit events and delivered first attempts keep no foreign key to their tenant (migrations 0044 and 0045:
/// each insert would lock the tenant's row); deleting the tenant still deletes them, and housekeeping deletes what a
/// transaction that overlapped the deletion wrote after it.
@Suite("Deleting a tenant: its jobs, audit events and delivered first attempts")
struct TenantDeletionTests {
    @Test("deleting a tenant deletes its jobs, audit events and delivered first attempts, and no other tenant's")
    func deletionPurges() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let doomed = try await database.makeTenant("doomed", logger: logger)
            let kept = try await database.makeTenant("kept", logger: logger)
            for tenant in [doomed, kept] { try await Self.writeUnkeyedRows(database, tenant: tenant, logger: logger) }
            #expect(try await Self.rows(environment, of: doomed) == Rows(jobs: 1, auditEvents: 1, deliveredFirstAttempts: 1))

            let tenantSettingAfter = try await database.withOperator(logger: logger) { transaction in
                #expect(try await transaction.deleteTenant(doomed))
                return try await transaction.query("SELECT current_setting('app.tenant_id', true)").decode(String?.self).collect().first
            }
            // The purge took the tenant's setting for its own statements only: the operator's transaction goes on as itself.
            #expect(tenantSettingAfter == "")
            #expect(try await Self.rows(environment, of: doomed) == Rows(jobs: 0, auditEvents: 0, deliveredFirstAttempts: 0))
            #expect(try await Self.rows(environment, of: kept) == Rows(jobs: 1, auditEvents: 1, deliveredFirstAttempts: 1))
            #expect(try await Self.tombstones(environment) == [doomed.rawValue])
        }
    }

    @Test("rows written for a tenant after its deletion are swept by housekeeping until its tombstone expires")
    func housekeepingSweepsLateRows() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let doomed = try await database.makeTenant("doomed", logger: logger)
            let kept = try await database.makeTenant("kept", logger: logger)
            try await Self.writeUnkeyedRows(database, tenant: kept, logger: logger)
            #expect(try await database.withOperator(logger: logger) { try await $0.deleteTenant(doomed) })
            // A transaction that began before the deletion and commits after it: nothing refuses its rows any more.
            try await Self.writeUnkeyedRows(database, tenant: doomed, logger: logger)
            #expect(try await Self.rows(environment, of: doomed) == Rows(jobs: 1, auditEvents: 1, deliveredFirstAttempts: 1))

            let scheduler = JobScheduler(database: database, options: SchedulerOptions(fastJobsSettings()), metrics: nil, logger: logger)
            try await scheduler.housekeeping()
            #expect(try await Self.rows(environment, of: doomed) == Rows(jobs: 0, auditEvents: 0, deliveredFirstAttempts: 0))
            #expect(try await Self.rows(environment, of: kept) == Rows(jobs: 1, auditEvents: 1, deliveredFirstAttempts: 1))
            // Still within its lifetime: the tombstone stays for the next late writer.
            #expect(try await Self.tombstones(environment) == [doomed.rawValue])

            let swept = try await database.withQueue(logger: logger) { try await $0.sweepDeletedTenants(keep: .zero) }
            #expect(swept == 0)
            #expect(try await Self.tombstones(environment).isEmpty)
        }
    }

    @Test("the purge is the operator's and the sweep housekeeping's: a tenant's transaction can call neither")
    func functionsRefuseOtherModes() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let tenant = try await database.makeTenant("curious", logger: logger)
            let other = try await database.makeTenant("other", logger: logger)
            try await Self.writeUnkeyedRows(database, tenant: other, logger: logger)
            for call: PostgresQuery in ["SELECT app_purge_deleted_tenant(\(other.rawValue))", "SELECT app_sweep_deleted_tenants(interval '0')"] {
                await #expect {
                    try await database.withTenant(tenant, logger: logger) { _ = try await $0.query(call).collect() }
                } throws: { error in
                    (error as? PSQLError)?.serverInfo?[.sqlState] == "42501"
                }
            }
            // The purge of a tenant that still exists is refused even for the operator.
            await #expect {
                try await database.withOperator(logger: logger) {
                    _ = try await $0.query("SELECT app_purge_deleted_tenant(\(other.rawValue))").collect()
                }
            } throws: { error in
                (error as? PSQLError)?.serverInfo?[.sqlState] == "55006"
            }
            #expect(try await Self.rows(environment, of: other) == Rows(jobs: 1, auditEvents: 1, deliveredFirstAttempts: 1))
        }
    }

    struct Rows: Equatable {
        var jobs: Int
        var auditEvents: Int
        var deliveredFirstAttempts: Int
    }

    /// A job, an audit event and a delivered first attempt of `tenant`: one row in each table without a key to it.
    static func writeUnkeyedRows(_ database: Database, tenant: TenantID, logger: Logger) async throws {
        try await database.withTenant(tenant, logger: logger) { transaction in
            _ = try await transaction.enqueue(try NewJob(NoopPayload(sleepMilliseconds: 0)))
            try await transaction.recordAudit(
                NewAuditEvent(actor: "test", action: "credential.read", resourceType: "integration", resourceID: nil, requestID: nil)
            )
            _ = try await transaction.query(
                """
                INSERT INTO delivered_first_attempts (tenant_id, id, destination_id, event_id, started_at, finished_at, detail)
                VALUES (\(tenant.rawValue), \(UUID()), \(UUID()), \(UUID()), now(), now(), '{}')
                """
            ).collect()
        }
    }

    /// Counted as the owner, whom row-level security does not hide them from.
    static func rows(_ environment: TestEnvironment, of tenant: TenantID) async throws -> Rows {
        try await environment.withOwnerConnection { connection in
            let counts = try await connection.query(
                """
                SELECT (SELECT count(*) FROM jobs WHERE tenant_id = \(tenant.rawValue))::int,
                       (SELECT count(*) FROM audit_events WHERE tenant_id = \(tenant.rawValue))::int,
                       (SELECT count(*) FROM delivered_first_attempts WHERE tenant_id = \(tenant.rawValue))::int
                """,
                logger: environment.logger
            ).decode((Int, Int, Int).self).collect()
            let (jobs, auditEvents, deliveredFirstAttempts) = try #require(counts.first)
            return Rows(jobs: jobs, auditEvents: auditEvents, deliveredFirstAttempts: deliveredFirstAttempts)
        }
    }

    static func tombstones(_ environment: TestEnvironment) async throws -> [UUID] {
        try await environment.withOwnerConnection { connection in
            try await connection.query("SELECT tenant_id FROM deleted_tenants ORDER BY tenant_id", logger: environment.logger)
                .decode(UUID.self).collect()
        }
    }
}
