/// What a tenant API key may do. `write` implies `read`; `credentials:read` (reading integrations'
/// usable credentials in plaintext) is never implied and must be granted on its own.
public enum APIKeyScope: String, Sendable, Codable, CaseIterable, Comparable {
    case read
    case write
    case credentialsRead = "credentials:read"

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
        case .credentialsRead: contains(.credentialsRead)
        }
    }
}
