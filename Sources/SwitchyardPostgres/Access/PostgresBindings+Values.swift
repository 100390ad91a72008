import PostgresNIO

/// Binds for the prepared statements of the hot paths (`PostgresPreparedStatement.makeBindings`): claiming and
/// completing jobs, and the ingest insert; `nil` becomes SQL NULL. Every other statement is `PostgresQuery`
/// interpolation, where each value is a bind and only constant column lists go in `\(unescaped:)`.
func bindings(_ values: (any PostgresEncodable)?...) throws -> PostgresBindings {
    var bindings = PostgresBindings()
    for value in values {
        if let value { try bindings.append(value) } else { bindings.appendNull() }
    }
    return bindings
}
