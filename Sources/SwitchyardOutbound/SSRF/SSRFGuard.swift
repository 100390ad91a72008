import NIOCore
import SwitchyardCore
import Synchronization

#if canImport(FoundationEssentials)
import struct FoundationEssentials.URL
#else
import struct Foundation.URL
#endif

/// Decides whether a user-supplied URL may be called (API-5): https only, no userinfo, and no host that
/// is or resolves to a loopback, private, link-local (cloud metadata), CGNAT, ULA, multicast or reserved address.
///
/// Hosts on the allow-list (`host` or `host:port`, for development and tests) may use plain http and skip
/// the address check. Use ``check(_:)`` before storing a destination (webhook URL, custom provider
/// endpoint) and again before calling it; ``OutboundClient`` does the latter for every request and also
/// checks the address it actually connected to (see ``permitsConnection(to:)``).
public final class SSRFGuard: Sendable {
    /// Where a checked URL leads.
    public struct Destination: Sendable, Equatable {
        public var scheme: String
        public var host: String
        public var port: Int
        /// The addresses the host resolved to (the literal itself for an IP host).
        public var addresses: [IPAddress]
        public var isAllowListed: Bool
    }

    private struct AllowedHost: Hashable {
        var host: String
        var port: Int?
    }

    private struct PinnedEndpoint: Hashable {
        var address: IPAddress
        var port: Int?
    }

    private struct CachedResolution {
        var addresses: [IPAddress]
        var expires: ContinuousClock.Instant
    }

    private let allowList: Set<AllowedHost>
    private let resolve: HostResolver
    /// Recent answers, so that pooled connections do not cost a blocking `getaddrinfo` per request. Safe to
    /// cache: the connect-time check still sees the address each new connection really reaches.
    private let resolutions = Mutex<[String: CachedResolution]>([:])
    private let resolutionTTL: Duration
    /// URLs whose form passed ``validate(_:)``, which depends on nothing but the URL and the allow-list: a destination
    /// called thousands of times a second is parsed once, not per request. Refused URLs are not kept.
    private let validated = ExpiringCache<String, Destination>(timeToLive: nil, capacity: 4096)
    private static let maxCachedResolutions = 4096
    /// Forbidden addresses that allow-listed hosts resolved to; the connect-time check lets these through.
    private let pinned: Mutex<Set<PinnedEndpoint>>
    private static let maxPinned = 256

    /// - Parameters:
    ///   - allowList: `host` or `host:port` entries (`127.0.0.1:8081`, `[::1]:8081`, `localhost`)
    ///     that may use plain http and reach any address. Empty in production.
    ///   - resolutionCacheTTL: how long a host's addresses are reused before resolving it again.
    public convenience init(allowList: [String] = [], resolutionCacheTTL: Duration = .seconds(30)) {
        self.init(allowList: allowList, resolver: systemHostResolver, resolutionCacheTTL: resolutionCacheTTL)
    }

    package init(allowList: [String], resolver: @escaping HostResolver, resolutionCacheTTL: Duration = .seconds(30)) {
        let entries = allowList.compactMap(Self.parseAllowListEntry)
        self.allowList = Set(entries)
        self.resolve = resolver
        self.resolutionTTL = resolutionCacheTTL
        var pinned: Set<PinnedEndpoint> = []
        for entry in entries {
            if let literal = IPAddress(parsing: entry.host) {
                pinned.insert(PinnedEndpoint(address: literal, port: entry.port))
            }
        }
        self.pinned = Mutex(pinned)
    }

    /// Checks the URL's form and resolves its host; throws when any address it resolves to is forbidden.
    public func check(_ url: String) async throws(SSRFViolation) -> Destination {
        var destination: Destination
        if let valid = validated.value(for: url) {
            destination = valid
        } else {
            destination = try validate(url)
            validated.store(destination, for: url)
        }
        if !destination.addresses.isEmpty {
            return destination
        }
        let addresses = try await addresses(of: destination.host)
        if destination.isAllowListed {
            pin(addresses, port: destination.port, host: destination.host)
        } else if let range = addresses.lazy.compactMap(ForbiddenRange.containing).first {
            // One bad address is enough: the connection may pick any of them.
            throw SSRFViolation(.forbiddenAddress(range))
        }
        destination.addresses = addresses
        return destination
    }

    /// Checks what can be checked without DNS: scheme, userinfo, host present, and IP literals in every
    /// notation `getaddrinfo` accepts. The returned destination has no addresses when the host is a name.
    public func validate(_ url: String) throws(SSRFViolation) -> Destination {
        // The same parser AsyncHTTPClient uses, so both read the same host.
        guard let parsed = URL(string: url), let rawScheme = parsed.scheme, let rawHost = parsed.host, !rawHost.isEmpty else {
            throw SSRFViolation(.invalidURL)
        }
        let scheme = rawScheme.lowercased()
        let host = Self.normalise(rawHost)
        guard !host.isEmpty else { throw SSRFViolation(.invalidURL) }
        let port: Int
        switch scheme {
        case "https": port = parsed.port ?? 443
        case "http": port = parsed.port ?? 80
        default: throw SSRFViolation(.schemeNotAllowed(scheme))
        }
        guard parsed.user == nil, parsed.password == nil else {
            throw SSRFViolation(.userInfo)
        }
        let allowListed = allowList.contains(AllowedHost(host: host, port: port)) || allowList.contains(AllowedHost(host: host, port: nil))
        if scheme == "http", !allowListed {
            throw SSRFViolation(.schemeNotAllowed(scheme))
        }
        var addresses: [IPAddress] = []
        if let literal = IPAddress(parsing: host) {
            if !allowListed, let range = ForbiddenRange.containing(literal) {
                throw SSRFViolation(.forbiddenAddress(range))
            }
            addresses = [literal]
        }
        return Destination(scheme: scheme, host: host, port: port, addresses: addresses, isAllowListed: allowListed)
    }

    /// Whether a connection that reached `address` may be used: the last line of defence against a name
    /// that resolved to a public address when checked and to a private one when connecting (DNS rebinding).
    public func permitsConnection(to address: SocketAddress) -> Bool {
        forbiddenRange(of: address) == nil
    }

    /// The forbidden range of an address we connected to, or `nil` when the connection is acceptable.
    func forbiddenRange(of address: SocketAddress) -> ForbiddenRange? {
        guard let text = address.ipAddress, let ip = IPAddress(parsing: text) else { return .reserved }
        guard let range = ForbiddenRange.containing(ip) else { return nil }
        let allowed = pinned.withLock { pinned in
            pinned.contains(PinnedEndpoint(address: ip, port: address.port)) || pinned.contains(PinnedEndpoint(address: ip, port: nil))
        }
        return allowed ? nil : range
    }

    /// A connection initializer for AsyncHTTPClient's `http1_1ConnectionDebugInitializer` and
    /// `http2ConnectionDebugInitializer`: it runs once per new connection, after connecting (and after
    /// the TLS handshake) but before any request is written, and closes connections to forbidden addresses.
    var connectionCheck: @Sendable (any Channel) -> EventLoopFuture<Void> {
        { [self] channel in
            guard let remote = channel.remoteAddress else {
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(SSRFViolation(.forbiddenAddress(.reserved)))
            }
            if let range = forbiddenRange(of: remote) {
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(SSRFViolation(.forbiddenAddress(range)))
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
    }

    private func addresses(of host: String) async throws(SSRFViolation) -> [IPAddress] {
        let now = ContinuousClock.now
        if let cached = resolutions.withLock({ $0[host] }), cached.expires > now {
            return cached.addresses
        }
        let addresses = try await resolve(host)
        resolutions.withLock { cache in
            if cache.count >= Self.maxCachedResolutions {
                cache = cache.filter { $0.value.expires > now }
                if cache.count >= Self.maxCachedResolutions { cache.removeAll(keepingCapacity: true) }
            }
            cache[host] = CachedResolution(addresses: addresses, expires: now + resolutionTTL)
        }
        return addresses
    }

    private func pin(_ addresses: [IPAddress], port: Int, host: String) {
        let port: Int? = allowList.contains(AllowedHost(host: host, port: port)) ? port : nil
        pinned.withLock { pinned in
            for address in addresses where ForbiddenRange.containing(address) != nil && pinned.count < Self.maxPinned {
                pinned.insert(PinnedEndpoint(address: address, port: port))
            }
        }
    }

    /// The allow-listed hosts without their ports, for checks that know a host but no port yet
    /// (custom provider definitions are validated by host before any request is made).
    public var allowListedHosts: Set<String> { Set(allowList.map(\.host)) }

    private static func normalise(_ host: String) -> String {
        var host = Substring(host.lowercased())
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        if host.hasSuffix(".") { host = host.dropLast() }
        return String(host)
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port`.
    private static func parseAllowListEntry(_ entry: String) -> AllowedHost? {
        let entry = entry.filter { !$0.isWhitespace }
        guard !entry.isEmpty else { return nil }
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { return nil }
            let host = normalise(String(entry[...close]))
            let rest = entry[entry.index(after: close)...]
            if rest.isEmpty { return AllowedHost(host: host, port: nil) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { return nil }
            return AllowedHost(host: host, port: port)
        }
        let parts = entry.split(separator: ":")
        switch parts.count {
        case 1: return AllowedHost(host: normalise(entry), port: nil)
        case 2:
            guard let port = Int(parts[1]) else { return nil }
            return AllowedHost(host: normalise(String(parts[0])), port: port)
        default:
            // A bare IPv6 address without brackets cannot carry a port.
            return AllowedHost(host: normalise(entry), port: nil)
        }
    }
}
