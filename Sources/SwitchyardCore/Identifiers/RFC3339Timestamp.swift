import Foundation

/// Reads an RFC 3339 date-time (`2026-11-29T12:00:00Z`, `0946-06-02T23:42:52.497849-01:36`), the `date-time` format
/// of the API document, strictly: every field in range (no minute 99 rolled over into the next hour, as Foundation's
/// parsers do), any number of fractional digits, `Z` or a numeric offset. Days are counted in the proleptic
/// Gregorian calendar, as RFC 3339 says, so early years do not shift by the Julian calendar's days.
public enum RFC3339Timestamp {
    public static func date(from text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ start: Int, _ length: Int) -> Int? {
            guard start + length <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + length] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        func byte(_ index: Int, in allowed: String) -> Bool { index < bytes.count && allowed.utf8.contains(bytes[index]) }
        guard let year = number(0, 4), byte(4, in: "-"), let month = number(5, 2), byte(7, in: "-"), let day = number(8, 2),
            byte(10, in: "Tt"), let hour = number(11, 2), byte(13, in: ":"), let minute = number(14, 2), byte(16, in: ":"),
            let second = number(17, 2)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if byte(index, in: ".") {
            let start = index + 1
            index = start
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
            guard index > start, let digits = Double("0." + String(decoding: bytes[start..<index], as: UTF8.self)) else { return nil }
            fraction = digits
        }
        var offsetMinutes = 0
        if byte(index, in: "Zz") {
            index += 1
        } else if byte(index, in: "+-"), let offsetHour = number(index + 1, 2), byte(index + 3, in: ":"), let offsetMinute = number(index + 4, 2),
            offsetHour <= 23, offsetMinute <= 59
        {
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count, (1...12).contains(month), (1...ProlepticGregorian.days(in: month, of: year)).contains(day), hour <= 23,
            minute <= 59
        else { return nil }
        let days = ProlepticGregorian.daysSince1970(year: year, month: month, day: day)
        var seconds = Double(days * 86_400 + hour * 3600 + minute * 60 - offsetMinutes * 60)
        switch second {
        case 0...59: seconds += Double(second)
        // A leap second exists only as the last second of a UTC day; it is read as the last millisecond of that day.
        case 60 where Int(seconds.truncatingRemainder(dividingBy: 86_400) + 86_400) % 86_400 == 86_340: seconds += 59.999
        default: return nil
        }
        return Date(timeIntervalSince1970: seconds + (second == 60 ? 0 : fraction))
    }
}
