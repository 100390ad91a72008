import NIOSSL
import PostgresNIO
import SwitchyardCore

extension PostgresClient.Configuration {
    enum Role {
        /// The serving processes: pooled, with a statement timeout so no request holds a connection forever.
        case application(maxConnections: Int, statementTimeoutMilliseconds: Int)
        /// The webhook ingest writer's pool: every session in the ingest mode (`app.ingest = on`).
        case ingest(maxConnections: Int, statementTimeoutMilliseconds: Int)
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
        case .application(let maxConnections, let statementTimeout):
            options.maximumConnections = maxConnections
            options.additionalStartupParameters = [
                ("statement_timeout", "\(statementTimeout)"),
                ("application_name", "switchyard"),
            ]
        case .ingest(let maxConnections, let statementTimeout):
            options.maximumConnections = maxConnections
            options.additionalStartupParameters = [
                ("statement_timeout", "\(statementTimeout)"),
                ("application_name", "switchyard-ingest"),
                ("app.ingest", "on"),
            ]
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
