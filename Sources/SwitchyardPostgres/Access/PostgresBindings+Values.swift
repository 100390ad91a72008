import PostgresNIO

/// Binds for `PostgresQuery(unsafeSQL:binds:)`, the form used where a statement's column list or table
/// name comes from a constant (every value is still a bind); `nil` becomes SQL NULL.
func bindings(_ values: (any PostgresEncodable)?...) throws -> PostgresBindings {
    var bindings = PostgresBindings()
    for value in values {
        if let value { try bindings.append(value) } else { bindings.appendNull() }
    }
    return bindings
}
