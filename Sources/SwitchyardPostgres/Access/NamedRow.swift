import Foundation
import PostgresNIO
import SwitchyardCore

/// A result row read by column name. A column that is missing or does not decode, an enum value the code does not
/// know and stored JSON that does not parse are internal errors naming the table, the column and the row's id:
/// never a default that would show a corrupt row as an empty one.
struct NamedRow {
    let table: String
    private let columns: PostgresRandomAccessRow
    /// The row's `id`, for the error messages, when it has one.
    private let id: UUID?

    init(_ row: PostgresRow, table: String) {
        self.table = table
        columns = row.makeRandomAccess()
        id = columns.contains("id") ? try? columns["id"].decode(UUID.self) : nil
    }

    /// The value of `column`; a SQL NULL is `nil` when `Value` is optional, an error otherwise.
    func callAsFunction<Value: PostgresDecodable>(
        _ column: String,
        as type: Value.Type = Value.self,
        fileID: String = #fileID,
        line: Int = #line
    )
        throws -> Value
    {
        guard columns.contains(column) else { throw fault(column, "is not in the result", fileID: fileID, line: line) }
        do {
            return try columns[column].decode(Value.self)
        } catch {
            throw fault(column, "does not decode as \(Value.self): \(error)", fileID: fileID, line: line)
        }
    }

    /// A text column holding one of `Value`'s raw values (a status, a kind).
    func value<Value: RawRepresentable>(
        _ column: String,
        as type: Value.Type = Value.self,
        fileID: String = #fileID,
        line: Int = #line
    ) throws
        -> Value where Value.RawValue == String
    {
        let text: String = try self(column, fileID: fileID, line: line)
        guard let value = Value(rawValue: text) else {
            throw fault(column, "holds '\(text)', which is not a \(Value.self)", fileID: fileID, line: line)
        }
        return value
    }

    /// A text array column of `Value`'s raw values (a key's scopes).
    func values<Value: RawRepresentable>(
        _ column: String,
        as type: Value.Type = Value.self,
        fileID: String = #fileID,
        line: Int = #line
    ) throws
        -> [Value] where Value.RawValue == String
    {
        let texts: [String] = try self(column, fileID: fileID, line: line)
        return try texts.map { text in
            guard let value = Value(rawValue: text) else {
                throw fault(column, "holds '\(text)', which is not a \(Value.self)", fileID: fileID, line: line)
            }
            return value
        }
    }

    /// A `jsonb` column selected as text (`column::text`), decoded as `Value`.
    func json<Value: Decodable>(
        _ column: String,
        as type: Value.Type = Value.self,
        decoder: JSONDecoder = JSONDecoder(),
        fileID: String = #fileID,
        line: Int = #line
    ) throws -> Value {
        guard let value = try jsonIfPresent(column, as: Value.self, decoder: decoder, fileID: fileID, line: line) else {
            throw fault(column, "is NULL", fileID: fileID, line: line)
        }
        return value
    }

    /// A nullable `jsonb` column selected as text: `nil` for SQL NULL.
    func jsonIfPresent<Value: Decodable>(
        _ column: String,
        as type: Value.Type = Value.self,
        decoder: JSONDecoder = JSONDecoder(),
        fileID: String = #fileID,
        line: Int = #line
    ) throws -> Value? {
        let text: String? = try self(column, fileID: fileID, line: line)
        return try text.map {
            try JSONText.decode(Value.self, $0, column: "\(table).\(column)", row: id, decoder: decoder, fileID: fileID, line: line)
        }
    }

    private func fault(_ column: String, _ problem: String, fileID: String, line: Int) -> SwitchyardError {
        .internal("\(table).\(column)\(id.map { " of row \($0.lowercasedString)" } ?? "") \(problem)", fileID: fileID, line: line)
    }
}
