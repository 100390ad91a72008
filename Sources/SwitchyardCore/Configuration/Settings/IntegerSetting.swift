/// A whole number within a range.
public struct IntegerSetting: ConfigurationSetting {
    public let environmentKey: String
    public let defaultValue: Int
    public private(set) var range: ClosedRange<Int>
    public let documentation: String
    public var isSecret: Bool { false }
    public var documentedDefault: String { String(defaultValue) }
    public var allowedValues: String { "\(range.lowerBound) to \(range.upperBound)" }

    public init(_ environmentKey: String, default defaultValue: Int, in range: ClosedRange<Int>, _ documentation: String) {
        precondition(range.contains(defaultValue), "\(environmentKey): the default is outside the range")
        self.environmentKey = environmentKey
        self.defaultValue = defaultValue
        self.range = range
        self.documentation = documentation
    }

    public func value(from text: String?) throws(ConfigurationError) -> Int {
        guard let text else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(
                variable: environmentKey,
                problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'"
            )
        }
        return value
    }

    /// The same setting with a higher minimum taken from another setting's value (a maximum not below its base).
    /// An unset setting still takes the default, even below that minimum.
    public func raisingMinimum(to minimum: Int) -> IntegerSetting {
        var raised = self
        raised.range = max(minimum, range.lowerBound)...range.upperBound
        return raised
    }
}
