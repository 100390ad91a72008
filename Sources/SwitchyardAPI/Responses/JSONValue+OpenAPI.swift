import Foundation
import OpenAPIRuntime
import SwitchyardCore

extension OpenAPIObjectContainer {
    /// Stored JSON (a token response's fields, a job's payload) as the generated types' free-form object.
    init(_ object: [String: JSONValue]) throws {
        self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(object))
    }
}

extension OpenAPIValueContainer {
    /// Stored JSON as the generated types' free-form value.
    init(_ value: JSONValue) throws {
        self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(value))
    }
}
