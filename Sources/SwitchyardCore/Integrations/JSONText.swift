import Foundation

/// JSON stored in `jsonb` columns and read back as text (records, and the API showing a stored payload). A value that does not decode is an internal error naming the
/// column and the row: never an empty default, which would show a corrupt row as an empty one.
public enum JSONText {
    public static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// A `JSONValue`'s text, written by its own serializer (`serialized()`) rather than through `JSONEncoder`, which
    /// was the run engine's largest CPU item in `bench workflow`. Keys come out sorted and slashes unescaped: the same
    /// JSON value. Declared `throws` like the generic form, so that callers read the same either way.
    public static func encode(_ value: JSONValue) throws -> String {
        String(decoding: value.serialized(), as: UTF8.self)
    }

    public static func decode<Value: Decodable>(
        _ type: Value.Type,
        _ text: String,
        column: String,
        row: UUID? = nil,
        decoder: JSONDecoder = JSONDecoder(),
        fileID: String = #fileID,
        line: Int = #line
    ) throws -> Value {
        do {
            return try decoder.decode(Value.self, from: Data(text.utf8))
        } catch {
            throw SwitchyardError.internal(
                "\(column)\(row.map { " of row \($0.lowercasedString)" } ?? "") does not decode as \(Value.self): \(error)",
                fileID: fileID,
                line: line
            )
        }
    }
}
