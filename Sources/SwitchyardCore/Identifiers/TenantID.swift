import Foundation

/// The identity of a tenant. A distinct type so a tenant id cannot be passed where a key id is expected.
public struct TenantID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UUID

    public init(_ rawValue: UUID) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try UUID(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try rawValue.encode(to: encoder)
    }

    public var description: String { rawValue.lowercasedString }
}
