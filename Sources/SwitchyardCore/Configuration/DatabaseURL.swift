import Foundation

/// A parsed `postgres://user:password@host:port/database?sslmode=...` URL.
public struct DatabaseURL: Sendable, Equatable {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode

    public init(host: String, port: Int, username: String, password: String?, database: String, tlsMode: TLSMode) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
    }

    /// Parses `string`; the error names `variable` and never echoes the URL (it may hold a password).
    public init(parsing string: String, variable: String) throws(ConfigurationError) {
        guard let components = URLComponents(string: string),
            components.scheme == "postgres" || components.scheme == "postgresql",
            let host = components.host, !host.isEmpty,
            let username = components.user, !username.isEmpty
        else {
            throw ConfigurationError(
                variable: variable,
                problem: "expected postgres://USER:PASSWORD@HOST:PORT/DATABASE (the value is not shown because it may contain a password)"
            )
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw ConfigurationError(variable: variable, problem: "the URL names no database (add /DATABASE after the host)")
        }
        let modeName = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        guard let tlsMode = TLSMode(rawValue: modeName) else {
            throw ConfigurationError(variable: variable, problem: "sslmode must be disable, prefer or require")
        }
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: username,
            password: components.password?.removingPercentEncoding ?? components.password,
            database: database,
            tlsMode: tlsMode
        )
    }

    /// The URL as text, for building child-process environments; never log it.
    public var urlString: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = username
        components.password = password
        components.host = host
        components.port = port
        components.path = "/" + database
        components.queryItems = [URLQueryItem(name: "sslmode", value: tlsMode.rawValue)]
        return components.string ?? ""
    }

    /// The same server and credentials, another database.
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }
}
