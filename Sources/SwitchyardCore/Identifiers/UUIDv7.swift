import Foundation

extension UUID {
    /// A version 7 UUID (RFC 9562 §5.7): 48 bits of Unix milliseconds, then random bits.
    ///
    /// Time-ordered ids keep B-tree inserts at the right edge of the index and make `id` a stable
    /// pagination key without a separate `created_at` tie-breaker.
    public static func v7(now: Date = Date()) -> UUID {
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        // 74 random bits from two draws (a draw is a getrandom call: one per byte cost more than the rest of an
        // ingest's id-making put together).
        var generator = SystemRandomNumberGenerator()
        let high: UInt64 = generator.next()
        let low: UInt64 = generator.next()
        func byte(_ value: UInt64, _ shift: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: value >> shift) }
        return UUID(
            uuid: (
                byte(milliseconds, 40), byte(milliseconds, 32), byte(milliseconds, 24), byte(milliseconds, 16),
                byte(milliseconds, 8), byte(milliseconds, 0),
                0x70 | (byte(high, 56) & 0x0F),  // version 7
                byte(high, 48),
                0x80 | (byte(high, 40) & 0x3F),  // RFC 4122 variant
                byte(high, 32), byte(low, 40), byte(low, 32), byte(low, 24), byte(low, 16), byte(low, 8), byte(low, 0)
            )
        )
    }

    /// The smallest UUID that sorts at or after every version 7 UUID made at `time` or later: a bound for a range of
    /// ids by time (the primary key then serves a query by time).
    public static func v7Floor(at time: Date) -> UUID {
        let milliseconds = UInt64(max(0, time.timeIntervalSince1970 * 1000))
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - UInt64(index))))
        }
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }
}
