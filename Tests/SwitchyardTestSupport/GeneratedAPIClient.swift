import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import OpenAPIAsyncHTTPClient
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

extension HTTPClient {
    /// The generated client for a server listening on `port` of the loopback interface (a live server, a process).
    package func api(port: Int, key: String? = nil) -> Client {
        Client(
            serverURL: URL(string: "http://127.0.0.1:\(port)")!,
            transport: AsyncHTTPClientTransport(configuration: .init(client: self, timeout: .seconds(15))),
            middlewares: key.map { [BearerKey(key: $0)] } ?? []
        )
    }
}

extension HTTPClient {
    /// Creates a tenant as the operator on the server at `port`, and a key for it; returns (tenant id, key).
    package func makeTenant(port: Int, slug: String, scopes: [Components.Schemas.Scope] = [.read, .write]) async throws -> (id: String, key: String) {
        let admin = api(port: port, key: TestEnvironment.adminKey)
        let tenant = try await admin.createTenant(body: .json(.init(slug: slug, name: "Tenant \(slug)"))).created.body.json
        let created = try await admin.createTenantAPIKey(path: .init(tenantId: tenant.id), body: .json(.init(name: "first", scopes: scopes)))
        guard let key = try created.created.body.json.value2.key else { throw TestFailure("a created key came without its secret") }
        return (tenant.id, key)
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
