import Foundation
import SwitchyardCore

extension JSONValue {
    /// The value as JSON, for handing a tenant's payload to the job kind that checks it.
    var data: Data { (try? JSONEncoder().encode(self)) ?? Data("null".utf8) }
}
