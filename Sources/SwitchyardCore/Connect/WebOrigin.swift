import Foundation

/// A web origin (`https://app.example.com[:port]`, RFC 6454), the unit a tenant allow-lists for where a
/// connect flow may send the end user back (REQUIREMENTS OA-3: no open redirect).
///
/// https is required, except for loopback hosts, which may use http for local development.
public struct WebOrigin: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int?

    /// Parses an origin as a tenant writes it: scheme, host and optional port, nothing else (a single `/` is tolerated).
    public init?(origin text: String) {
        guard let components = URLComponents(string: text), components.path.isEmpty || components.path == "/",
            components.query == nil, components.fragment == nil
        else { return nil }
        self.init(components)
    }

    /// The origin of an absolute URL such as a `return_to`; nil for anything that is not a plain http(s) URL.
    public init?(ofURL text: String) {
        guard let components = URLComponents(string: text), components.fragment == nil else { return nil }
        self.init(components)
    }

    private init?(_ components: URLComponents) {
        guard let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased(), !host.isEmpty,
            components.user == nil, components.password == nil
        else { return nil }
        let loopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == "::1"
        guard scheme == "https" || (scheme == "http" && loopback) else { return nil }
        self.scheme = scheme
        self.host = host
        let defaultPort = scheme == "https" ? 443 : 80
        self.port = components.port == defaultPort ? nil : components.port
    }

    public var description: String {
        let host = self.host.contains(":") && !self.host.hasPrefix("[") ? "[\(self.host)]" : self.host
        return port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }
}
