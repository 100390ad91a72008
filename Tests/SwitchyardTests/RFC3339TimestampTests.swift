import Foundation
import SwitchyardCore
import Testing

@Suite("RFC 3339 date-times, read strictly (issue 12, item 15)")
struct RFC3339TimestampTests {
    @Test("valid date-times: offsets, fractions, early years in the proleptic Gregorian calendar, a leap day, a leap second")
    func valid() {
        #expect(RFC3339Timestamp.date(from: "1970-01-01T00:00:00Z")?.timeIntervalSince1970 == 0)
        #expect(RFC3339Timestamp.date(from: "2026-11-29T12:00:00+01:00")?.timeIntervalSince1970 == 1_795_950_000)
        #expect(RFC3339Timestamp.date(from: "0946-06-02T23:42:52.5-01:36")?.timeIntervalSince1970 == -32_301_067_267.5)
        #expect(RFC3339Timestamp.date(from: "2024-02-29t00:00:00z")?.timeIntervalSince1970 == 1_709_164_800)
        let leap = RFC3339Timestamp.date(from: "2016-12-31T23:59:60Z")?.timeIntervalSince1970
        #expect(leap.map { $0 >= 1_483_228_799 && $0 < 1_483_228_800 } == true)
    }

    @Test("out-of-range fields and other shapes are refused, not rolled over")
    func invalid() {
        for text in [
            "2024-01-01T12:99:00Z", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-01T24:00:00Z",
            "2024-01-01T12:00:61Z", "2024-01-01T12:00:60Z", "2024-01-01T12:00:00", "2024-01-01 12:00:00Z", "2024-01-01T12:00:00.Z",
            "2024-01-01T12:00:00+24:00", "2024-01-01T12:00:00+01", "2024-1-01T12:00:00Z", "", "2024-01-01T12:00:00Zjunk",
        ] {
            #expect(RFC3339Timestamp.date(from: text) == nil, "\(text)")
        }
    }

    @Test("written: the same text as Foundation's ISO 8601 style, fractions dropped, also before 1970; a round trip through the reader")
    func written() {
        #expect(Date(timeIntervalSince1970: 0).rfc3339 == "1970-01-01T00:00:00Z")
        #expect(Date(timeIntervalSince1970: -0.5).rfc3339 == "1969-12-31T23:59:59Z")
        #expect(Date(timeIntervalSince1970: 1_709_164_800).rfc3339 == "2024-02-29T00:00:00Z")
        var generator = SystemRandomNumberGenerator()
        // From 1600: Foundation's calendar is Julian before 1582, RFC 3339's proleptic Gregorian.
        for _ in 0..<2_000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -11_676_096_000...253_402_300_799, using: &generator))
            #expect(date.rfc3339 == date.formatted(.iso8601), "\(date.timeIntervalSince1970)")
            #expect(RFC3339Timestamp.date(from: date.rfc3339)?.timeIntervalSince1970 == date.timeIntervalSince1970.rounded(.down))
        }
    }
}
