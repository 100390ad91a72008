import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import OpenAPIRuntime
import SwitchyardAPIClient
import SwitchyardAPIContract

/// The client generated from `openapi/openapi.yaml`, sending through a Hummingbird test client (the application as
/// `serve` builds it, in process or on a live port). Each response is decoded by the schema the document gives for
/// its status: a missing required field, an unknown field or a wrong type fails the call.
extension TestClientProtocol {
    package func api(key: String? = nil) -> Client {
        Client(
            serverURL: URL(string: "http://localhost")!,
            transport: HummingbirdTestTransport(client: self),
            middlewares: key.map { [BearerKey(key: $0)] } ?? []
        )
    }
}

/// Carries a generated client's requests through a `TestClientProtocol`.
struct HummingbirdTestTransport: ClientTransport {
    let client: any TestClientProtocol

    func send(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String) async throws -> (HTTPResponse, HTTPBody?) {
        var bytes: ByteBuffer?
        if let body { bytes = ByteBuffer(bytes: try await [UInt8](collecting: body, upTo: 16 << 20)) }
        let response = try await client.execute(uri: request.path ?? "/", method: request.method, headers: request.headerFields, body: bytes)
        return (HTTPResponse(status: response.status, headerFields: response.headers), HTTPBody(Array(response.body.readableBytesView)))
    }
}

/// `Authorization: Bearer <key>` on every request.
struct BearerKey: ClientMiddleware {
    let key: String

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        baseURL: URL,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(key)"
        return try await next(request, body, baseURL)
    }
}

extension TestResponse {
    /// The body as the document's `Problem`, for a request sent raw (malformed on purpose).
    package var problem: Components.Schemas.Problem {
        get throws { try JSONDecoder().decode(Components.Schemas.Problem.self, from: Data(body.readableBytesView)) }
    }
}
