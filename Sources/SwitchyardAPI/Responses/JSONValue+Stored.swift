import Foundation
import SwitchyardCore

extension JSONValue {
    /// Parses stored JSON text (a job's payload). Text that does not parse is a corrupt row: an internal error that
    /// names the column, not a `null` that would pass for the tenant's data.
    init(stored text: String, column: String) throws {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw SwitchyardError.internal("\(column) does not decode as JSON: \(error)")
        }
    }

    /// The value as JSON, for handing a tenant's payload to the job kind that checks it.
    var data: Data { (try? JSONEncoder().encode(self)) ?? Data("null".utf8) }
}
