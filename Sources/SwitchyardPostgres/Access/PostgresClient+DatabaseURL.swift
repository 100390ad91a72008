import NIOSSL
import PostgresNIO
import SwitchyardCore

extension PostgresClient.Configuration {
    /// Which pool: they differ in size and in the name PostgreSQL shows for their sessions (`pg_stat_activity`).
    ///
    /// Nothing else is set at login: the statement timeout and the modes (`app.ingest`, `app.queue`, ...) are set
    /// per transaction (`Database.transaction`, `InsertWebhookEventsStatement`), in a statement that runs anyway.
    /// A pooler in transaction mode (PgBouncer) refuses login parameters it does not know, or drops them when told
    /// to ignore them, and hands a session to whichever client comes next: a setting that lives in the session
    /// would not reach the server, or would reach another client's transactions.
    enum Role {
        /// The serving processes' pool.
        case application(maxConnections: Int)
        /// The webhook ingest writer's pool.
        case ingest(maxConnections: Int)
    }

    init(_ url: DatabaseURL, role: Role) throws {
        let tls: PostgresClient.Configuration.TLS =
            switch url.tlsMode {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        self.init(host: url.host, port: url.port, username: url.username, password: url.password, database: url.database, tls: tls)
        switch role {
        case .application(let maxConnections):
            options.maximumConnections = maxConnections
            options.additionalStartupParameters = [("application_name", "switchyard")]
        case .ingest(let maxConnections):
            options.maximumConnections = maxConnections
            options.additionalStartupParameters = [("application_name", "switchyard-ingest")]
        }
    }
}

extension PostgresConnection.Configuration {
    public init(_ url: DatabaseURL) throws {
        let tls: PostgresConnection.Configuration.TLS =
            switch url.tlsMode {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        self.init(host: url.host, port: url.port, username: url.username, password: url.password, database: url.database, tls: tls)
    }
}
