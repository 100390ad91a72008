extension SwitchyardSettings {
    private static let databaseURLFormat = "`postgres://USER:PASSWORD@HOST:PORT/DATABASE`, `?sslmode=` `disable`, `prefer` (default) or `require`"

    public static let databaseURL = TextSetting(
        "SWITCHYARD_DATABASE_URL",
        secret: true,
        unset: "required by `serve`",
        accepts: databaseURLFormat,
        "the application role's connection (no superuser, no `BYPASSRLS`, owns no tables)"
    )
    public static let migrationDatabaseURL = TextSetting(
        "SWITCHYARD_MIGRATION_DATABASE_URL",
        secret: true,
        unset: "`SWITCHYARD_DATABASE_URL`",
        accepts: databaseURLFormat,
        "the schema owner's connection, used by `migrate` only"
    )
    public static let databaseMaxConnections = IntegerSetting(
        "SWITCHYARD_DATABASE_MAX_CONNECTIONS",
        default: 20,
        in: 1...1000,
        "connections per process for database calls (plus up to six for LISTEN, the leader lock and the queue's claims and writes)"
    )
    public static let databaseStatementTimeoutMilliseconds = IntegerSetting(
        "SWITCHYARD_DATABASE_STATEMENT_TIMEOUT_MS",
        default: 15_000,
        in: 100...3_600_000,
        "server-side cap on one statement"
    )
    public static let databaseAcquireTimeoutMilliseconds = IntegerSetting(
        "SWITCHYARD_DATABASE_ACQUIRE_TIMEOUT_MS",
        default: 2_000,
        in: 50...600_000,
        "longest wait for a pooled connection, then 503 (database down or pool exhausted)"
    )
    public static let databaseCallTimeoutMilliseconds = IntegerSetting(
        "SWITCHYARD_DATABASE_CALL_TIMEOUT_MS",
        default: 30_000,
        in: 100...3_600_000,
        "longest a transaction may hold its connection, then the connection is closed under it (a dead socket never answers)"
    )
    public static let databaseIngestTimeoutMilliseconds = IntegerSetting(
        "SWITCHYARD_DATABASE_INGEST_TIMEOUT_MS",
        default: 3_000,
        in: 100...600_000,
        "the same for one webhook ingest batch; with the acquire timeout it bounds how long a provider waits for a 503"
    )
    public static let databasePreparedStatements = FlagSetting(
        "SWITCHYARD_DATABASE_PREPARED_STATEMENTS",
        default: true,
        "prepare the hot statements (claim, completion, ingest, sync page) once per connection; `false` behind PgBouncer before 1.21 in transaction pooling mode"
    )
}
