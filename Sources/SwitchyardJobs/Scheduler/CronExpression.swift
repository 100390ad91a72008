import Foundation

/// A five-field cron expression (minute, hour, day of month, month, day of week), evaluated in UTC.
///
/// Fields take `*`, numbers, ranges `a-b`, lists `a,b` and steps `*/n` or `a-b/n`; day of week is 0-7
/// with 0 and 7 both Sunday. As in Vixie cron, when both day fields are restricted a day matching
/// either one fires.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let daysOfMonthRestricted: Bool
    let daysOfWeekRestricted: Bool
    public let description: String

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(ParseError) {
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "a cron expression has five fields (minute hour day-of-month month day-of-week), got \(fields.count)")
        }
        minutes = try Self.field(fields[0], name: "minute", range: 0...59)
        hours = try Self.field(fields[1], name: "hour", range: 0...23)
        daysOfMonth = try Self.field(fields[2], name: "day of month", range: 1...31)
        months = try Self.field(fields[3], name: "month", range: 1...12)
        daysOfWeek = Set(try Self.field(fields[4], name: "day of week", range: 0...7).map { $0 % 7 })
        daysOfMonthRestricted = !fields[2].hasPrefix("*")
        daysOfWeekRestricted = !fields[4].hasPrefix("*")
        description = fields.joined(separator: " ")
    }

    private static func field(_ text: String, name: String, range: ClosedRange<Int>) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw ParseError(description: "the \(name) field '\(text)' is not valid") }
            var step = 1
            if pieces.count == 2 {
                guard let value = Int(pieces[1]), value >= 1 else { throw ParseError(description: "the \(name) field '\(text)' has an invalid step") }
                step = value
            }
            var bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(ends.count), let low = Int(ends[0]), let high = Int(ends.last!), low <= high,
                    range.contains(low), range.contains(high)
                else {
                    throw ParseError(description: "the \(name) field '\(text)' must use numbers from \(range.lowerBound) to \(range.upperBound)")
                }
                // `5/15` means from 5 to the end of the range, every 15.
                bounds = low...(pieces.count == 2 && ends.count == 1 ? range.upperBound : high)
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    private func dayMatches(_ components: DateComponents) -> Bool {
        let dayOfMonth = daysOfMonth.contains(components.day!)
        let dayOfWeek = daysOfWeek.contains(components.weekday! - 1)
        switch (daysOfMonthRestricted, daysOfWeekRestricted) {
        case (true, true): return dayOfMonth || dayOfWeek
        case (true, false): return dayOfMonth
        case (false, true): return dayOfWeek
        case (false, false): return true
        }
    }

    /// The first time strictly after `date` that matches, or `nil` when none does within five years (`0 0 30 2 *`).
    public func next(after date: Date) -> Date? {
        let calendar = Self.calendar
        var candidate = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        let limit = date.addingTimeInterval(5 * 366 * 86_400)
        while candidate < limit {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: candidate)
            if !months.contains(parts.month!) {
                guard let next = calendar.date(from: DateComponents(year: parts.year, month: parts.month! + 1, day: 1)) else { return nil }
                candidate = next
            } else if !dayMatches(parts) {
                guard let next = calendar.date(from: DateComponents(year: parts.year, month: parts.month, day: parts.day! + 1)) else { return nil }
                candidate = next
            } else if !hours.contains(parts.hour!) {
                candidate = calendar.date(from: DateComponents(year: parts.year, month: parts.month, day: parts.day, hour: parts.hour! + 1))!
            } else if !minutes.contains(parts.minute!) {
                candidate = candidate.addingTimeInterval(60)
            } else {
                return candidate
            }
        }
        return nil
    }
}

/// When a schedule fires: every fixed interval, or by a cron expression.
public enum ScheduleRule: Sendable, Equatable {
    case interval(seconds: Int)
    case cron(CronExpression)

    /// The rule stored on a schedule row (exactly one of the two columns is set).
    public init(intervalSeconds: Int?, cron: String?) throws {
        switch (intervalSeconds, cron) {
        case (let seconds?, nil): self = .interval(seconds: seconds)
        case (nil, let text?): self = .cron(try CronExpression(text))
        default: throw CronExpression.ParseError(description: "set exactly one of interval_seconds and cron")
        }
    }

    /// The columns that store the rule.
    public var intervalSeconds: Int? { if case .interval(let seconds) = self { seconds } else { nil } }
    public var cron: String? { if case .cron(let expression) = self { expression.description } else { nil } }

    /// The first fire of a new (or resumed) schedule.
    public func firstFire(now: Date) -> Date? {
        switch self {
        case .interval(let seconds): now.addingTimeInterval(TimeInterval(seconds))
        case .cron(let expression): expression.next(after: now)
        }
    }

    /// The fire after `fire`, skipping fires already in the past at `now` (a scheduler that was down
    /// fires a missed schedule once, not once per missed fire). Intervals keep their phase.
    public func nextFire(after fire: Date, now: Date) -> Date? {
        switch self {
        case .interval(let seconds):
            let step = TimeInterval(seconds)
            let missed = max(0, (now.timeIntervalSince(fire) / step).rounded(.down))
            return fire.addingTimeInterval((missed + 1) * step)
        case .cron(let expression):
            return expression.next(after: max(fire, now))
        }
    }
}
