/// Finds values in decoded JSON (`JSONSerialization` objects) by a test, and says where they are as a dotted path.
/// Request bodies use it for what no Codable type states: a NUL character (`\u0000`, valid JSON, but PostgreSQL
/// text and jsonb cannot hold it; issue 12, items 1 and 2) and a `null` the API document does not allow.
public enum JSONPaths {
    /// The path of the first value (or object key) for which `test` holds, `(body)` for the top level; `nil` when
    /// none does. Members named in `skipping` by their path (`payload`, `request.body`) are not looked into.
    public static func first(in value: Any, skipping: Set<String> = [], where test: (Any) -> Bool) -> String? {
        first(in: value, path: "", skipping: skipping, where: test)
    }

    /// The path of the first string or key holding U+0000.
    public static func firstNUL(in value: Any) -> String? {
        first(in: value) { ($0 as? String)?.contains("\u{0}") == true }
    }

    private static func first(in value: Any, path: String, skipping: Set<String>, where test: (Any) -> Bool) -> String? {
        if test(value) { return path.isEmpty ? "(body)" : path }
        switch value {
        case let object as [String: Any]:
            for (key, member) in object.sorted(by: { $0.key < $1.key }) {
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                if skipping.contains(memberPath) { continue }
                if test(key) { return memberPath.replacingOccurrences(of: "\u{0}", with: "\\u0000") }
                if let found = first(in: member, path: memberPath, skipping: skipping, where: test) { return found }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = first(in: element, path: "\(path)[\(index)]", skipping: skipping, where: test) { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
