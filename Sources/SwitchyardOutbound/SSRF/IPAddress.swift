/// An IPv4 or IPv6 address, parsed strictly enough to decide whether a destination may be reached.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt128)

    /// Parses an IP literal the way the C resolver does, so that a host the guard lets through is not
    /// read as a different address by `getaddrinfo` later: IPv4 in `inet_aton` forms (`127.0.0.1`,
    /// `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`) and IPv6 with or without brackets and zone.
    public init?(parsing text: some StringProtocol) {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") {
            text = text.dropFirst().dropLast()
        }
        if text.contains(":") {
            // A zone (`fe80::1%eth0`, `%25` when percent-encoded in a URL) does not change the address.
            if let percent = text.firstIndex(of: "%") {
                text = text[..<percent]
            }
            guard let value = Self.parseIPv6(text) else { return nil }
            self = .v6(value)
        } else {
            guard let value = Self.parseIPv4(text) else { return nil }
            self = .v4(value)
        }
    }

    /// The IPv4 address carried inside an IPv6 one by a translation or tunnelling scheme, if any:
    /// IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:AABB:CCDD::`.
    public var embeddedIPv4: UInt32? {
        guard case .v6(let value) = self else { return nil }
        let low32 = UInt32(truncatingIfNeeded: value)
        if value >> 32 == 0xffff { return low32 }  // ::ffff:0:0/96
        if value >> 32 == 0, value > 1 { return low32 }  // ::/96 except :: and ::1
        if value >> 32 == 0x0064_ff9b_0000_0000_0000_0000 { return low32 }  // 64:ff9b::/96
        if value >> 112 == 0x2002 { return UInt32(truncatingIfNeeded: value >> 80) }  // 2002::/16
        return nil
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
        case .v6(let value):
            let groups = (0..<8).map { String(UInt16(truncatingIfNeeded: value >> (112 - 16 * $0)), radix: 16) }
            return groups.joined(separator: ":")
        }
    }

    /// `inet_aton`: one to four parts, each decimal, octal (leading `0`) or hex (`0x`); the last part
    /// fills the remaining bytes, so `127.1` is 127.0.0.1 and `2130706433` is too.
    static func parseIPv4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = parseIPv4Part(part) else { return nil }
            values.append(value)
        }
        var address: UInt64 = 0
        for (index, value) in values.dropLast().enumerated() {
            guard value <= 0xff else { return nil }
            address |= value << (24 - 8 * index)
        }
        let lastBits = 8 * (5 - parts.count)
        guard let last = values.last, last < (1 << lastBits) else { return nil }
        return UInt32(address | last)
    }

    private static func parseIPv4Part(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.count <= 32 else { return nil }
        let lowered = part.lowercased()
        if lowered.hasPrefix("0x") {
            let digits = lowered.dropFirst(2)
            return digits.isEmpty ? 0 : UInt64(digits, radix: 16)
        }
        if lowered.count > 1, lowered.hasPrefix("0") {
            return UInt64(lowered.dropFirst(), radix: 8)
        }
        guard lowered.allSatisfy(\.isASCIIDigit) else { return nil }
        return UInt64(lowered)
    }

    /// RFC 4291 text form, including `::` and a trailing dotted IPv4 part.
    static func parseIPv6(_ text: Substring) -> UInt128? {
        guard !text.isEmpty, text.count <= 45 else { return nil }
        let halves = text.split(separator: "::", omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        func groups(_ half: Substring) -> [UInt16]? {
            if half.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = half.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains(".") {
                    // Only the strict dotted quad is valid here, not the inet_aton forms.
                    let octets = piece.split(separator: ".", omittingEmptySubsequences: false)
                    guard octets.count == 4 else { return nil }
                    var value: UInt32 = 0
                    for octet in octets {
                        guard (1...3).contains(octet.count), octet.allSatisfy(\.isASCIIDigit), let byte = UInt32(octet), byte <= 255 else {
                            return nil
                        }
                        value = value << 8 | byte
                    }
                    result.append(UInt16(value >> 16))
                    result.append(UInt16(value & 0xffff))
                } else {
                    guard (1...4).contains(piece.count), let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
