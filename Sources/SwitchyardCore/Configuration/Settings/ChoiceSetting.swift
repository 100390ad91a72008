/// One of a fixed set of words (case-sensitive): the raw values of `Choice`.
public struct ChoiceSetting<Choice: RawRepresentable & CaseIterable & Sendable>: ConfigurationSetting where Choice.RawValue == String {
    public let environmentKey: String
    public let defaultValue: Choice
    public let documentation: String
    public var isSecret: Bool { false }
    public var documentedDefault: String { defaultValue.rawValue }
    public var allowedValues: String { Self.list(Choice.allCases.map { "`\($0.rawValue)`" }) }

    public init(_ environmentKey: String, default defaultValue: Choice, _ documentation: String) {
        self.environmentKey = environmentKey
        self.defaultValue = defaultValue
        self.documentation = documentation
    }

    public func value(from text: String?) throws(ConfigurationError) -> Choice {
        guard let text else { return defaultValue }
        guard let choice = Choice(rawValue: text) else {
            let words = Choice.allCases.map(\.rawValue)
            let problem = words.count == 2 ? "must be \(Self.list(words))" : "must be one of \(words.joined(separator: ", "))"
            throw ConfigurationError(variable: environmentKey, problem: problem)
        }
        return choice
    }

    /// `a or b`, `a, b or c`.
    private static func list(_ words: [String]) -> String {
        words.count < 2 ? words.joined() : words.dropLast().joined(separator: ", ") + " or " + words[words.count - 1]
    }
}
