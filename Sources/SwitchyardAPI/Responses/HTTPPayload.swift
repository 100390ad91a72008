import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore
import SwitchyardPostgres

/// A fully materialised response: what handlers produce, what idempotency stores and replays.
public struct HTTPPayload: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: [UInt8]
    /// What an `Idempotency-Key` replay answers instead of `body`, when `body` holds a secret that is
    /// shown once (a new API key): the secret is never stored, the replay shows the record without it.
    public var replayBody: [UInt8]?

    public init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: [UInt8], replayBody: [UInt8]? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.replayBody = replayBody
    }

    /// A JSON body in the API's conventions: snake_case keys (from the generated types' `CodingKeys`), RFC 3339 dates.
    public static func json(
        _ value: some Encodable,
        status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:],
        replayWithout secret: (some Encodable)? = nil as Never?
    ) throws -> HTTPPayload {
        var headers = headers
        headers[.contentType] = "application/json"
        var replayBody: [UInt8]?
        if let secret { replayBody = try encodeJSON(secret) }
        return HTTPPayload(status: status, headers: headers, body: try encodeJSON(value), replayBody: replayBody)
    }

    /// Through `JSONValueEncoder`, so that an optional property of a generated type that is `nil` is written as
    /// `null`, as the document's required-but-nullable fields need; written directly from the encoder's tree (sorted
    /// keys, slashes unescaped, as `JSONValue.serialized`), which costs a fraction of a pass through `JSONEncoder`.
    private static func encodeJSON(_ value: some Encodable) throws -> [UInt8] {
        try JSONValueEncoder().serialize(value)
    }

    public static func noContent() -> HTTPPayload {
        HTTPPayload(status: .noContent, body: [])
    }

    public var response: Response {
        var headers = self.headers
        if status != .noContent {
            headers[.contentLength] = String(body.count)
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The form kept for `Idempotency-Key` replays: status, body and the headers that describe them.
    var stored: StoredResponse {
        var kept: [String: String] = [:]
        for field in headers where [.contentType, .location].contains(field.name) {
            kept[field.name.canonicalName] = field.value
        }
        return StoredResponse(status: status.code, headers: kept, body: replayBody ?? body)
    }

    init(stored: StoredResponse) {
        var headers = HTTPFields()
        for (name, value) in stored.headers {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        self.init(status: .init(code: stored.status), headers: headers, body: stored.body)
    }
}
