/// Why a URL was refused as an outbound destination (API-5).
///
/// The description is safe to show to the tenant who supplied the URL: it names the rule, never the
/// address a name resolved to, so the guard cannot be used to map the internal network.
public struct SSRFViolation: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// Not an absolute `scheme://host` URL.
        case invalidURL
        /// Only `https`, or `http` for allow-listed hosts.
        case schemeNotAllowed(String)
        /// `user:password@` in the URL: credentials belong in headers, and userinfo is a classic parser-confusion vector.
        case userInfo
        /// The host is, or resolves to, an address in a forbidden range.
        case forbiddenAddress(ForbiddenRange)
        /// The host name has no address.
        case unresolvable
    }

    public var reason: Reason

    public init(_ reason: Reason) {
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .invalidURL: "the destination is not an absolute http(s) URL"
        case .schemeNotAllowed(let scheme): "the destination must use https, not \(scheme.prefix(16))"
        case .userInfo: "the destination URL must not contain a user name or password"
        case .forbiddenAddress(let range): "the destination resolves to a \(range.rawValue) address, which is not reachable from Switchyard"
        case .unresolvable: "the destination host name could not be resolved"
        }
    }
}
