import SwitchyardCore

/// A JSON template: a document whose leaves may be JSON Logic expressions. An object with exactly one member whose
/// name is an operator (`{"var": "trigger.data.id"}`, `{"cat": [...]}`) is an expression and is replaced by its
/// value; any other object or array is kept with its members evaluated; other values are literal.
public enum WorkflowTemplate {
    /// Whether `value` is an expression rather than a literal object.
    static func isExpression(_ value: JSONValue) -> Bool {
        guard case .object(let members) = value, members.count == 1, let name = members.keys.first else { return false }
        return Operator(rawValue: name) != nil
    }

    /// The template's value over `data`.
    public static func evaluate(_ template: JSONValue, data: JSONValue, limits: JSONLogic.Limits = .standard) throws(JSONLogicError) -> JSONValue {
        switch template {
        case .object(let members):
            if isExpression(template) { return try JSONLogic.evaluate(template, data: data, limits: limits) }
            var result: [String: JSONValue] = [:]
            for (name, member) in members { result[name] = try evaluate(member, data: data, limits: limits) }
            return .object(result)
        case .array(let elements):
            var result: [JSONValue] = []
            result.reserveCapacity(elements.count)
            for element in elements { result.append(try evaluate(element, data: data, limits: limits)) }
            return .array(result)
        default:
            return template
        }
    }

    /// Checks every expression in the template; the error's pointer is the place in the template.
    static func validate(_ template: JSONValue, path: String = "") throws(JSONLogicError) {
        switch template {
        case .object(let members):
            if isExpression(template) {
                do {
                    try JSONLogic.validate(template)
                } catch {
                    var located = error
                    located.pointer = path + error.pointer
                    throw located
                }
                return
            }
            for (name, member) in members { try validate(member, path: path + "/" + escape(name)) }
        case .array(let elements):
            for (index, element) in elements.enumerated() { try validate(element, path: path + "/\(index)") }
        default:
            return
        }
    }

    /// The first segments of the `var` paths the expressions in `value` read (`steps.fetch.body` gives
    /// `["steps", "fetch"]`), for checking which steps a template refers to. Computed paths are not known.
    static func variablePaths(in value: JSONValue, expression: Bool = false) -> [[String]] {
        switch value {
        case .object(let members):
            let isRule = expression || isExpression(value)
            var paths: [[String]] = []
            if isRule, members.count == 1, let argument = members["var"] {
                let name: JSONValue? =
                    if case .array(let elements) = argument { elements.first } else { argument }
                if case .string(let text) = name { paths.append(text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)) }
            }
            for member in members.values { paths += variablePaths(in: member, expression: isRule) }
            return paths
        case .array(let elements):
            return elements.flatMap { variablePaths(in: $0, expression: expression) }
        default:
            return []
        }
    }

    static func escape(_ token: String) -> String {
        token.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}
