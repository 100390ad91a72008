/// Address blocks that an outbound request must never reach unless its host is allow-listed: the
/// machine itself, private networks, cloud metadata endpoints and addresses that are not unicast.
///
/// Sources: RFC 6890 (special-purpose registries), RFC 1918, RFC 6598 (CGNAT), RFC 3927 (link-local,
/// which holds the 169.254.169.254 metadata service), RFC 4193 (ULA), RFC 4291, RFC 6052 (NAT64), RFC 3056 (6to4).
public enum ForbiddenRange: String, Sendable, CaseIterable {
    case unspecified
    case loopback
    case privateNetwork = "private"
    case linkLocal = "link-local"
    case sharedAddressSpace = "cgnat"
    case uniqueLocal = "unique-local"
    case multicast
    case reserved

    /// The range `address` falls in, or `nil` when it is an ordinary public unicast address.
    /// IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by that address.
    public static func containing(_ address: IPAddress) -> ForbiddenRange? {
        switch address {
        case .v4(let value):
            return ipv4Blocks.first { value & mask32($0.prefix) == $0.base }?.range
        case .v6(let value):
            if value == 0 { return .unspecified }
            if value == 1 { return .loopback }
            if let embedded = address.embeddedIPv4 {
                return containing(.v4(embedded))
            }
            return ipv6Blocks.first { value & mask128($0.prefix) == $0.base }?.range
        }
    }

    private static let ipv4Blocks: [(base: UInt32, prefix: Int, range: ForbiddenRange)] = [
        (0x0000_0000, 8, .unspecified),  // 0.0.0.0/8 "this network"; Linux connects 0.0.0.0 to loopback
        (0x0a00_0000, 8, .privateNetwork),  // 10.0.0.0/8
        (0x6440_0000, 10, .sharedAddressSpace),  // 100.64.0.0/10
        (0x7f00_0000, 8, .loopback),  // 127.0.0.0/8
        (0xa9fe_0000, 16, .linkLocal),  // 169.254.0.0/16, cloud metadata
        (0xac10_0000, 12, .privateNetwork),  // 172.16.0.0/12
        (0xc000_0000, 24, .reserved),  // 192.0.0.0/24 IETF protocol assignments
        (0xc000_0200, 24, .reserved),  // 192.0.2.0/24 TEST-NET-1
        (0xc0a8_0000, 16, .privateNetwork),  // 192.168.0.0/16
        (0xc612_0000, 15, .reserved),  // 198.18.0.0/15 benchmarking
        (0xc633_6400, 24, .reserved),  // 198.51.100.0/24 TEST-NET-2
        (0xcb00_7100, 24, .reserved),  // 203.0.113.0/24 TEST-NET-3
        (0xe000_0000, 4, .multicast),  // 224.0.0.0/4
        (0xf000_0000, 4, .reserved),  // 240.0.0.0/4 and the broadcast address
    ]

    private static let ipv6Blocks: [(base: UInt128, prefix: Int, range: ForbiddenRange)] = [
        (0x0000_0000_0000_0000_0000_0000_0000_0000, 96, .reserved),  // ::/96 (the IPv4 forms are handled above)
        (0x0100_0000_0000_0000_0000_0000_0000_0000, 64, .reserved),  // 100::/64 discard-only
        (0x2001_0000_0000_0000_0000_0000_0000_0000, 32, .reserved),  // 2001::/32 Teredo hides the IPv4 target
        (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32, .reserved),  // 2001:db8::/32 documentation
        (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7, .uniqueLocal),  // fc00::/7
        (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10, .linkLocal),  // fe80::/10
        (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10, .privateNetwork),  // fec0::/10 deprecated site-local
        (0xff00_0000_0000_0000_0000_0000_0000_0000, 8, .multicast),  // ff00::/8
    ]

    private static func mask32(_ prefix: Int) -> UInt32 { prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix) }
    private static func mask128(_ prefix: Int) -> UInt128 { prefix == 0 ? 0 : ~UInt128(0) << (128 - prefix) }
}
