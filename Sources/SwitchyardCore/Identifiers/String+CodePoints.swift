extension StringProtocol {
    /// The length that PostgreSQL's `length()` and JSON Schema's `maxLength` count: Unicode code points. Swift's `count`
    /// counts grapheme clusters (a flag emoji is one, but two code points), so a limit checked with it let names through
    /// that the database's CHECK then refused with a 500.
    public var codePointCount: Int { unicodeScalars.count }
}
