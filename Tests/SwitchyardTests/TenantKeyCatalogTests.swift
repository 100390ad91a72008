import Foundation
import PostgresNIO
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

/// The schema stays distributable by `tenant_id` (issue 18, `deploy/SCALING.md`): Citus co-locates a tenant's rows
/// on one node only if every table that holds tenant rows has a non-null `tenant_id` in its primary key, its unique
/// keys and its foreign keys, and it refuses the others when they are distributed. Tables without `tenant_id` must
/// be listed in `globalTables` (they become reference tables), so a migration cannot add a table that fits neither.
@Suite("Tenant keys in the catalog (issue 18)")
struct TenantKeyCatalogTests {
    /// The tables that belong to no tenant, and why. A new table without `tenant_id` goes here with its reason, or
    /// `everyTableIsClassified` fails.
    static let globalTables: [String: String] = [
        "tenants": "the tenants themselves: every tenant_id references tenants.id, and slugs are unique across tenants",
        "platform_oauth_apps": "the operator's default OAuth client per provider, used by every tenant without an app of its own",
        "platform_audit_events": "the operator's own audit events (a key-encryption-key rewrap, a platform OAuth app saved), about no one tenant",
        "platform_idempotency_keys": "the operator's own Idempotency-Keys (creating tenants and their keys), remembered outside any tenant",
        "schema_migrations": "the migrator's record of applied migrations (Migrator creates it), read at start, never per tenant",
    ]

    @Test("every table has tenant_id or is a listed global table, and every listed global table exists without tenant_id")
    func everyTableIsClassified() async throws {
        let catalog = try await Self.migratedCatalog()
        #expect(catalog.tables.count > Self.globalTables.count)
        Self.record(Self.classificationProblems(catalog))
    }

    @Test("tenant_id is a NOT NULL uuid in every tenant table (a distribution column holds no NULL and has one type)")
    func tenantColumn() async throws {
        let catalog = try await Self.migratedCatalog()
        Self.record(Self.tenantColumnProblems(catalog))
    }

    @Test("every tenant table has a primary key, and it and every unique constraint and unique index include tenant_id")
    func uniqueKeys() async throws {
        let catalog = try await Self.migratedCatalog()
        Self.record(Self.uniqueKeyProblems(catalog))
    }

    @Test("foreign keys between tenant tables pair tenant_id with tenant_id, and none leads from a global table into a tenant table")
    func foreignKeys() async throws {
        let catalog = try await Self.migratedCatalog()
        Self.record(Self.foreignKeyProblems(catalog))
    }

    @Test("no foreign key that includes tenant_id sets it to NULL or a default, or cascades an update of it")
    func foreignKeyActions() async throws {
        let catalog = try await Self.migratedCatalog()
        Self.record(Self.foreignKeyActionProblems(catalog))
    }

    @Test("the rules catch an unlisted table, a nullable tenant_id, keys without tenant_id and foreign keys that drop it")
    func rulesCatchViolations() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withOwnerConnection { connection in
            try await connection.query(
                "CREATE TABLE probe_parent (tenant_id uuid, id uuid PRIMARY KEY, code text UNIQUE, UNIQUE (tenant_id, id))",
                logger: environment.logger
            )
            try await connection.query(
                """
                CREATE TABLE probe_child (
                    tenant_id uuid NOT NULL,
                    id        uuid NOT NULL,
                    parent_id uuid REFERENCES probe_parent (id),
                    other_id  uuid,
                    PRIMARY KEY (tenant_id, id),
                    FOREIGN KEY (tenant_id, other_id) REFERENCES probe_parent (tenant_id, id) ON DELETE SET NULL (other_id)
                )
                """,
                logger: environment.logger
            )
            try await connection.query(
                "CREATE TABLE probe_unlisted (id uuid PRIMARY KEY, parent_id uuid REFERENCES probe_parent (id))",
                logger: environment.logger
            )
        }
        let catalog = try await Catalog.read(environment)
        let expectations: [(problems: [String], mention: String)] = [
            (Self.classificationProblems(catalog), "probe_unlisted has no tenant_id"),
            (Self.tenantColumnProblems(catalog), "probe_parent.tenant_id allows NULL"),
            (Self.uniqueKeyProblems(catalog), "probe_parent_pkey"),
            (Self.uniqueKeyProblems(catalog), "probe_parent_code_key"),
            (Self.foreignKeyProblems(catalog), "probe_child_parent_id_fkey"),
            (Self.foreignKeyProblems(catalog), "probe_unlisted_parent_id_fkey"),
            (Self.foreignKeyActionProblems(catalog), "probe_child_tenant_id_other_id_fkey"),
        ]
        for (problems, mention) in expectations {
            #expect(problems.contains { $0.contains(mention) }, "no problem mentions \(mention): \(problems)")
        }
    }

    /// The catalog of a freshly migrated database.
    static func migratedCatalog() async throws -> Catalog {
        let environment = try await TestEnvironment.make()
        return try await Catalog.read(environment)
    }

    // MARK: - The rules

    static func classificationProblems(_ catalog: Catalog) -> [String] {
        var problems: [String] = []
        for table in catalog.tables where !table.hasTenantID && globalTables[table.name] == nil {
            problems.append(
                "\(table.name) has no tenant_id and is not in globalTables: give it a tenant_id (first in every key), "
                    + "or list it there with the reason it belongs to no tenant"
            )
        }
        let byName = Dictionary(uniqueKeysWithValues: catalog.tables.map { ($0.name, $0) })
        for name in globalTables.keys.sorted() {
            if let table = byName[name] {
                if table.hasTenantID { problems.append("\(name) is in globalTables but has tenant_id: take it out of the list") }
            } else {
                problems.append("globalTables lists \(name), which is not in the schema")
            }
        }
        return problems
    }

    static func tenantColumnProblems(_ catalog: Catalog) -> [String] {
        var problems: [String] = []
        for table in catalog.tenantTables {
            if !table.tenantIDIsNotNull {
                problems.append(
                    "\(table.name).tenant_id allows NULL: a distribution column cannot hold NULL; "
                        + "keep rows that belong to no tenant in a global table of their own"
                )
            }
            if table.tenantIDType != "uuid" {
                problems.append("\(table.name).tenant_id is \(table.tenantIDType): co-located tables share one distribution column type, uuid")
            }
        }
        return problems
    }

    static func uniqueKeyProblems(_ catalog: Catalog) -> [String] {
        var problems: [String] = []
        for table in catalog.tenantTables {
            let keys = catalog.uniqueKeys.filter { $0.table == table.name }
            if !keys.contains(where: \.isPrimary) {
                problems.append("\(table.name) has no primary key: give it one that begins with tenant_id")
            }
            for key in keys where !key.includesTenantID {
                problems.append(
                    "\(table.name): \(key.isPrimary ? "primary key" : "unique index") \(key.index) does not have tenant_id as a column "
                        + "(an expression over it does not count): \(key.definition)"
                )
            }
        }
        return problems
    }

    static func foreignKeyProblems(_ catalog: Catalog) -> [String] {
        let tenantTables = Set(catalog.tenantTables.map(\.name))
        var problems: [String] = []
        for key in catalog.foreignKeys {
            let fromTenant = tenantTables.contains(key.table)
            let toTenant = tenantTables.contains(key.referencedTable)
            if fromTenant && toTenant && !key.pairsTenantIDs {
                problems.append(
                    "\(key.table): foreign key \(key.name) references tenant table \(key.referencedTable) without tenant_id "
                        + "referencing tenant_id: include (tenant_id, ...) on both sides"
                )
            }
            if !fromTenant && toTenant {
                problems.append(
                    "\(key.table): foreign key \(key.name) leads from a table without tenant_id into tenant table "
                        + "\(key.referencedTable): a reference table cannot reference a distributed one"
                )
            }
        }
        return problems
    }

    /// Citus refuses these on a foreign key whose columns include the distribution column (PostgreSQL 15's
    /// `SET NULL (column)` form too: the action is what it checks, not the columns it names).
    static func foreignKeyActionProblems(_ catalog: Catalog) -> [String] {
        let tenantTables = Set(catalog.tenantTables.map(\.name))
        var problems: [String] = []
        for key in catalog.foreignKeys where tenantTables.contains(key.table) && key.includesTenantID {
            if ["n", "d"].contains(key.onDelete) {
                problems.append(
                    "\(key.table): foreign key \(key.name) is ON DELETE SET \(key.onDelete == "n" ? "NULL" : "DEFAULT"): "
                        + "use NO ACTION (or CASCADE) and clear the column in the statement that deletes"
                )
            }
            if ["n", "d", "c"].contains(key.onUpdate) {
                problems.append("\(key.table): foreign key \(key.name) has an ON UPDATE action that would change tenant_id: use NO ACTION")
            }
        }
        return problems
    }

    static func record(_ problems: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for problem in problems {
            Issue.record("\(problem)", sourceLocation: sourceLocation)
        }
    }
}

extension TenantKeyCatalogTests {
    /// What PostgreSQL's catalog says about the tables of the current schema and their keys.
    struct Catalog: Sendable {
        let tables: [Table]
        /// Primary keys, unique constraints and unique indexes (each is backed by a unique index), and exclusion
        /// constraints, of the tables with `tenant_id`.
        let uniqueKeys: [UniqueKey]
        let foreignKeys: [ForeignKey]

        var tenantTables: [Table] { tables.filter(\.hasTenantID) }

        static func read(_ environment: TestEnvironment) async throws -> Catalog {
            try await environment.withOwnerConnection { (connection: PostgresConnection) async throws -> Catalog in
                let tables = try await connection.query(
                    """
                    SELECT c.relname::text AS table_name,
                           a.attnum IS NOT NULL AS has_tenant_id,
                           coalesce(a.attnotnull, false) AS tenant_id_not_null,
                           coalesce(format_type(a.atttypid, a.atttypmod), '') AS tenant_id_type
                      FROM pg_class c
                      JOIN pg_namespace n ON n.oid = c.relnamespace
                      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                     ORDER BY 1
                    """,
                    logger: environment.logger
                ).collect()
                let uniqueKeys = try await connection.query(
                    """
                    SELECT c.relname::text AS table_name,
                           ic.relname::text AS index_name,
                           i.indisprimary AS is_primary,
                           EXISTS (SELECT 1 FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
                                    WHERE k.position <= i.indnkeyatts AND k.attnum = a.attnum) AS includes_tenant_id,
                           pg_get_indexdef(i.indexrelid) AS definition
                      FROM pg_index i
                      JOIN pg_class c ON c.oid = i.indrelid
                      JOIN pg_class ic ON ic.oid = i.indexrelid
                      JOIN pg_namespace n ON n.oid = c.relnamespace
                      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                       AND (i.indisunique OR i.indisexclusion)
                     ORDER BY 1, 2
                    """,
                    logger: environment.logger
                ).collect()
                let foreignKeys = try await connection.query(
                    """
                    SELECT con.conname::text AS constraint_name,
                           src.relname::text AS table_name,
                           dst.relname::text AS referenced_table,
                           coalesce(sa.attnum = ANY (con.conkey), false) AS includes_tenant_id,
                           EXISTS (SELECT 1 FROM unnest(con.conkey, con.confkey) AS p(column_number, referenced_column_number)
                                    WHERE p.column_number = sa.attnum AND p.referenced_column_number = da.attnum) AS pairs_tenant_ids,
                           con.confdeltype::text AS on_delete,
                           con.confupdtype::text AS on_update
                      FROM pg_constraint con
                      JOIN pg_class src ON src.oid = con.conrelid
                      JOIN pg_class dst ON dst.oid = con.confrelid
                      JOIN pg_namespace n ON n.oid = src.relnamespace
                      LEFT JOIN pg_attribute sa ON sa.attrelid = src.oid AND sa.attname = 'tenant_id' AND NOT sa.attisdropped
                      LEFT JOIN pg_attribute da ON da.attrelid = dst.oid AND da.attname = 'tenant_id' AND NOT da.attisdropped
                     WHERE con.contype = 'f' AND con.conparentid = 0 AND n.nspname = current_schema()
                     ORDER BY 2, 1
                    """,
                    logger: environment.logger
                ).collect()
                return Catalog(
                    tables: try tables.map { try Table($0) },
                    uniqueKeys: try uniqueKeys.map { try UniqueKey($0) },
                    foreignKeys: try foreignKeys.map { try ForeignKey($0) }
                )
            }
        }
    }

    struct Table: Sendable {
        let name: String
        let hasTenantID: Bool
        let tenantIDIsNotNull: Bool
        /// `format_type` of `tenant_id`, empty when there is none.
        let tenantIDType: String

        init(_ row: PostgresRow) throws {
            let columns = row.makeRandomAccess()
            name = try columns["table_name"].decode(String.self)
            hasTenantID = try columns["has_tenant_id"].decode(Bool.self)
            tenantIDIsNotNull = try columns["tenant_id_not_null"].decode(Bool.self)
            tenantIDType = try columns["tenant_id_type"].decode(String.self)
        }
    }

    struct UniqueKey: Sendable {
        let table: String
        let index: String
        let isPrimary: Bool
        /// `tenant_id` is one of the index's key columns (not an `INCLUDE` column, not inside an expression).
        let includesTenantID: Bool
        let definition: String

        init(_ row: PostgresRow) throws {
            let columns = row.makeRandomAccess()
            table = try columns["table_name"].decode(String.self)
            index = try columns["index_name"].decode(String.self)
            isPrimary = try columns["is_primary"].decode(Bool.self)
            includesTenantID = try columns["includes_tenant_id"].decode(Bool.self)
            definition = try columns["definition"].decode(String.self)
        }
    }

    struct ForeignKey: Sendable {
        let name: String
        let table: String
        let referencedTable: String
        /// `tenant_id` of the referencing table is one of the key's columns.
        let includesTenantID: Bool
        /// The referencing `tenant_id` references the referenced table's `tenant_id` (same position in the key).
        let pairsTenantIDs: Bool
        /// `pg_constraint.confdeltype` and `confupdtype`: `a` no action, `r` restrict, `c` cascade, `n` set null,
        /// `d` set default.
        let onDelete: String
        let onUpdate: String

        init(_ row: PostgresRow) throws {
            let columns = row.makeRandomAccess()
            name = try columns["constraint_name"].decode(String.self)
            table = try columns["table_name"].decode(String.self)
            referencedTable = try columns["referenced_table"].decode(String.self)
            includesTenantID = try columns["includes_tenant_id"].decode(Bool.self)
            pairsTenantIDs = try columns["pairs_tenant_ids"].decode(Bool.self)
            onDelete = try columns["on_delete"].decode(String.self)
            onUpdate = try columns["on_update"].decode(String.self)
        }
    }
}
