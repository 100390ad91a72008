import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardAPIContract
import SwitchyardTestSupport

/// A response of `client.request(...)` read through the document's types, for the tests that must send or see raw
/// bytes (malformed input; a secret that must not appear anywhere in the text) but check the answer typed.
enum TypedBody {
    static func decode<Value: Decodable>(_ type: Value.Type, _ response: TestResponse) throws -> Value {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(Value.self, from: Data(response.text.utf8))
        } catch {
            throw TestFailure("\(response.status) \(response.text) does not decode as \(Value.self): \(error)")
        }
    }

    /// The problem answer (`application/problem+json`), checked to say `status`.
    static func problem(_ response: TestResponse, _ status: HTTPResponse.Status) throws -> Components.Schemas.Problem {
        guard response.status == status, response.headers[.contentType] == "application/problem+json" else {
            throw TestFailure("expected a \(status.code) problem, got \(response.status): \(response.text)")
        }
        let problem = try response.problem
        guard problem.status == status.code else { throw TestFailure("the problem says \(problem.status), the response \(status.code)") }
        return problem
    }
}
