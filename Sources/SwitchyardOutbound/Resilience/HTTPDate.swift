import SwitchyardCore

/// Parses the three HTTP-date forms of RFC 9110 §5.6.7 into seconds since 1970:
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
/// and asctime (`Sun Nov  6 08:49:37 1994`).
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func parse(_ text: some StringProtocol) -> Double? {
        let tokens = text.split { $0 == " " || $0 == "," || $0 == "-" || $0 == "\t" }
        guard tokens.count >= 5 else { return nil }
        var month: Int?
        var clock: [Int]?
        var numbers: [(value: Int, digits: Int)] = []
        for token in tokens {
            if token.contains(":") {
                let parts = token.split(separator: ":").compactMap { Int($0) }
                guard parts.count == 3 else { return nil }
                clock = parts
            } else if let value = Int(token) {
                numbers.append((value, token.count))
            } else if month == nil, let index = months.firstIndex(of: token.prefix(3).lowercased()), token.count == 3 {
                month = index + 1
            }
        }
        guard let month, let clock, numbers.count == 2 else { return nil }
        let day = numbers[0].value
        var year = numbers[1].value
        if numbers[1].digits == 2 {
            // RFC 850's two-digit years: RFC 9110 says to read them as at most 50 years in the future.
            year += year < 70 ? 2000 : 1900
        }
        guard (1...31).contains(day), (0...23).contains(clock[0]), (0...59).contains(clock[1]), (0...60).contains(clock[2]) else {
            return nil
        }
        let days = ProlepticGregorian.daysSince1970(year: year, month: month, day: day)
        return Double(days * 86_400 + clock[0] * 3600 + clock[1] * 60 + clock[2])
    }
}
