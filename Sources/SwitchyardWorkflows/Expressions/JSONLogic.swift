import SwitchyardCore

/// JSON Logic (jsonlogic.com), the expression language of workflow conditions and computed values (issue 16).
///
/// Tenants' rules run on shared executors, so evaluation is bounded: the rule's nesting depth, the operations done
/// (iterations of `map`, `filter`, `reduce`, `all`, `none` and `some` included) and the size of the values it builds.
/// There is no I/O (`log` returns its argument) and no loop other than the array operators.
public enum JSONLogic {
    /// The bounds of one evaluation.
    public struct Limits: Sendable, Hashable {
        /// How deeply operators and arrays may nest in a rule.
        public var maxDepth: Int
        /// Operations per evaluation: each operator applied and each iteration of an array operator.
        public var maxSteps: Int
        /// The largest string or array (its JSON size, estimated) that an operator may build.
        public var maxOutputBytes: Int
        /// How deeply the arrays and objects of a value that an operator builds may nest.
        public var maxOutputDepth: Int

        public init(maxDepth: Int = 64, maxSteps: Int = 100_000, maxOutputBytes: Int = 1 << 20, maxOutputDepth: Int = 256) {
            self.maxDepth = maxDepth
            self.maxSteps = maxSteps
            self.maxOutputBytes = maxOutputBytes
            self.maxOutputDepth = maxOutputDepth
        }

        public static let standard = Limits()
    }

    /// The value of `rule` over `data`.
    ///
    /// A non-finite number (a division by zero, arithmetic on text that is not a number) is `null`, as
    /// `JSON.stringify` writes it.
    public static func evaluate(_ rule: JSONValue, data: JSONValue = .null, limits: Limits = .standard) throws(JSONLogicError) -> JSONValue {
        var evaluator = Evaluator(limits: limits)
        return try evaluator.apply(rule, data)
    }

    /// Checks that `rule` is well formed (known operators, the argument counts the spec fixes, nesting within
    /// `limits.maxDepth`) without evaluating it; the error names where in the rule it is wrong.
    public static func validate(_ rule: JSONValue, limits: Limits = .standard) throws(JSONLogicError) {
        var path: [String] = []
        try validate(rule, depth: 0, path: &path, limits: limits)
    }

    private static func validate(_ rule: JSONValue, depth: Int, path: inout [String], limits: Limits) throws(JSONLogicError) {
        switch rule {
        case .array(let elements):
            guard depth < limits.maxDepth else { throw JSONLogicError(.tooDeep(limit: limits.maxDepth), path: path) }
            for (index, element) in elements.enumerated() {
                path.append(String(index))
                try validate(element, depth: depth + 1, path: &path, limits: limits)
                path.removeLast()
            }
        case .object(let members) where members.count == 1:
            guard depth < limits.maxDepth else { throw JSONLogicError(.tooDeep(limit: limits.maxDepth), path: path) }
            let (name, argument) = members.first!
            path.append(name)
            let arguments = try Operator.arguments(of: name, argument, path: path)
            // A one-element argument given bare (`{"var": "a"}`) sits at the operator's own path.
            let bare = !isArray(argument)
            for (index, element) in arguments.enumerated() {
                if !bare { path.append(String(index)) }
                try validate(element, depth: depth + 1, path: &path, limits: limits)
                if !bare { path.removeLast() }
            }
            path.removeLast()
        default:
            return
        }
    }

    static func isArray(_ value: JSONValue) -> Bool {
        if case .array = value { return true }
        return false
    }
}

/// Why a rule was refused or its evaluation stopped, and where in the rule.
public struct JSONLogicError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// An object with one key whose key is not an operator.
        case unknownOperator(String)
        /// An operator given a number of arguments the spec does not allow (`expected` reads like "2" or "2 or 3").
        case argumentCount(operator: String, expected: String, given: Int)
        /// Operators and arrays nested deeper than the limit.
        case tooDeep(limit: Int)
        /// More operations than the limit.
        case tooManySteps(limit: Int)
        /// A string or array larger than the limit, in bytes of JSON.
        case outputTooLarge(limit: Int)
        /// A value built with arrays or objects nested deeper than the limit.
        case outputTooDeep(limit: Int)
    }

    public var reason: Reason
    /// Where in the rule, as an RFC 6901 JSON pointer (`/and/1/==/0`; `""` is the whole rule).
    public var pointer: String

    init(_ reason: Reason, path: [String]) {
        self.reason = reason
        self.pointer = path.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    public var description: String {
        let location = pointer.isEmpty ? "the rule" : pointer
        switch reason {
        case .unknownOperator(let name): return "\(location): unknown operator \"\(name)\""
        case .argumentCount(let name, let expected, let given):
            return "\(location): \"\(name)\" takes \(expected) argument(s), given \(given)"
        case .tooDeep(let limit): return "\(location): the rule nests deeper than \(limit)"
        case .tooManySteps(let limit): return "\(location): the evaluation took more than \(limit) operations"
        case .outputTooLarge(let limit): return "\(location): a value built is larger than \(limit) bytes"
        case .outputTooDeep(let limit): return "\(location): a value built nests deeper than \(limit)"
        }
    }
}

/// The operators of jsonlogic.com's spec.
enum Operator: String, CaseIterable {
    case variable = "var"
    case missing
    case missingSome = "missing_some"
    case `if`
    case ternary = "?:"
    case equal = "=="
    case strictEqual = "==="
    case notEqual = "!="
    case strictNotEqual = "!=="
    case not = "!"
    case truthy = "!!"
    case or
    case and
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="
    case max
    case min
    case add = "+"
    case subtract = "-"
    case multiply = "*"
    case divide = "/"
    case remainder = "%"
    case map
    case filter
    case reduce
    case all
    case none
    case some
    case merge
    case `in`
    case cat
    case substr
    case log

    /// The argument counts the spec gives the operator meaning for (nil: any).
    var arity: ClosedRange<Int>? {
        switch self {
        case .variable: 0...2
        case .missingSome: 2...2
        case .equal, .strictEqual, .notEqual, .strictNotEqual, .greater, .greaterOrEqual, .divide, .remainder, .in: 2...2
        case .less, .lessOrEqual: 2...3
        case .not, .truthy, .log: 1...1
        case .or, .and, .max, .min, .multiply: 1...Int.max
        case .subtract: 1...2
        case .map, .filter, .all, .none, .some: 2...2
        case .reduce, .substr: 2...3
        case .missing, .if, .ternary, .add, .merge, .cat: nil
        }
    }

    /// The operator named `name` and its arguments (a bare argument is a list of one), checked against its arity.
    static func arguments(of name: String, _ argument: JSONValue, path: [String]) throws(JSONLogicError) -> [JSONValue] {
        guard let op = Operator(rawValue: name) else { throw JSONLogicError(.unknownOperator(name), path: path) }
        let arguments: [JSONValue]
        if case .array(let elements) = argument { arguments = elements } else { arguments = [argument] }
        if let arity = op.arity, !arity.contains(arguments.count) {
            let expected =
                arity.lowerBound == arity.upperBound
                ? "\(arity.lowerBound)"
                : arity.upperBound == Int.max ? "at least \(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)"
            throw JSONLogicError(.argumentCount(operator: name, expected: expected, given: arguments.count), path: path)
        }
        return arguments
    }
}
