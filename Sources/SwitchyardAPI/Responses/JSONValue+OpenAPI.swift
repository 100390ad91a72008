import Foundation
import OpenAPIRuntime
import SwitchyardCore

extension OpenAPIObjectContainer {
    /// Stored JSON (a token response's fields, a job's payload) as the generated types' free-form object.
    init(_ object: [String: JSONValue]) throws {
        self = try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(object))
    }
}
