import Foundation
import HTTPTypes
import Hummingbird
import SwitchyardCore

/// Gives every request an id (the caller's `X-Request-Id` when it is sane, a new one otherwise),
/// puts it in the logger metadata and echoes it on every response, errors included.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = request.headers[.requestID].flatMap(Self.acceptable) ?? Self.newID()
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response = try await next(request, context)
        response.headers[.requestID] = requestID
        return response
    }

    /// A new request id: a version 7 UUID, whose random bits come from one `getrandom` call (Foundation's `UUID()`
    /// opens and reads `/dev/urandom` on Linux, a file opened per request).
    static func newID() -> String { UUID.v7().lowercasedString }

    /// 1 to 128 characters of `[A-Za-z0-9._-]`: safe to log and to echo.
    static func acceptable(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ $0 == 45 || $0 == 46 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) })
        else { return nil }
        return value
    }
}

extension HTTPField.Name {
    public static let requestID = Self("X-Request-Id")!
    public static let idempotencyKey = Self("Idempotency-Key")!
    public static let idempotentReplayed = Self("Idempotent-Replayed")!
}
