/// Finds U+0000 in decoded JSON. The escape `\u0000` is valid JSON, but PostgreSQL text and jsonb cannot hold it,
/// so every place JSON reaches the database looks for it first and says where it is (issue 12, items 1 and 2).
public enum JSONNUL {
    /// Where the first string (or key) holding U+0000 is in a `JSONSerialization` object, as a dotted path
    /// (`(body)` for a top-level string); `nil` when none does.
    public static func path(in value: Any, path: String = "") -> String? {
        switch value {
        case let text as String:
            return text.contains("\u{0}") ? (path.isEmpty ? "(body)" : path) : nil
        case let object as [String: Any]:
            for (key, member) in object {
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                if key.contains("\u{0}") { return memberPath.replacingOccurrences(of: "\u{0}", with: "\\u0000") }
                if let found = self.path(in: member, path: memberPath) { return found }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = self.path(in: element, path: "\(path)[\(index)]") { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
