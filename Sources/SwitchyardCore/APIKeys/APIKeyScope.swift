/// What a tenant API key may do. `write` implies `read`.
public enum APIKeyScope: String, Sendable, Codable, CaseIterable, Comparable {
    case read
    case write

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

extension Set<APIKeyScope> {
    /// Whether these scopes allow an operation that needs `scope`.
    public func permits(_ scope: APIKeyScope) -> Bool {
        switch scope {
        case .read: contains(.read) || contains(.write)
        case .write: contains(.write)
        }
    }
}
