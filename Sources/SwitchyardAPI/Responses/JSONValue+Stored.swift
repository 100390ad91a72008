import Foundation
import SwitchyardCore

extension JSONValue {
    /// Parses stored JSON text (a job's payload); unreadable text shows as null rather than failing the response.
    init(text: String) {
        self = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
    }

    /// The value as JSON, for handing a tenant's payload to the job kind that checks it.
    var data: Data { (try? JSONEncoder().encode(self)) ?? Data("null".utf8) }
}
