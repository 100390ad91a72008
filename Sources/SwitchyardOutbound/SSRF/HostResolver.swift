import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves a host name to every address it has, as the connection will (`getaddrinfo`).
package typealias HostResolver = @Sendable (String) async throws(SSRFViolation) -> [IPAddress]

/// The system resolver, run on NIO's blocking-I/O thread pool because `getaddrinfo` blocks.
package let systemHostResolver: HostResolver = { host throws(SSRFViolation) in
    let addresses: [IPAddress]
    do {
        addresses = try await NIOThreadPool.singleton.runIfActive { try getAddresses(host) }
    } catch {
        throw SSRFViolation(.unresolvable)
    }
    guard !addresses.isEmpty else { throw SSRFViolation(.unresolvable) }
    return addresses
}

private struct ResolutionFailed: Error {}

private func getAddresses(_ host: String) throws -> [IPAddress] {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    #if canImport(Darwin)
    hints.ai_socktype = SOCK_STREAM
    #else
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    #endif
    var list: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { throw ResolutionFailed() }
    defer { freeaddrinfo(first) }
    var addresses: [IPAddress] = []
    var cursor: UnsafeMutablePointer<addrinfo>? = first
    while let entry = cursor {
        if let socketAddress = entry.pointee.ai_addr {
            switch Int32(socketAddress.pointee.sa_family) {
            case AF_INET:
                let value = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                addresses.append(.v4(UInt32(bigEndian: value)))
            case AF_INET6:
                let bytes = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                    withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                }
                addresses.append(.v6(bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }))
            default:
                break
            }
        }
        cursor = entry.pointee.ai_next
    }
    return addresses
}
