/// A failure that the API reports to its caller.
///
/// Domain code throws these; `ProblemDetails` (SwitchyardAPI) is the one place that turns them into
/// RFC 9457 `application/problem+json`. `detail` is shown to the caller, so it never holds internals or secrets.
public struct SwitchyardError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case badRequest
        case unauthorized
        case forbidden
        case notFound
        case methodNotAllowed(allowed: [String])
        case conflict
        case payloadTooLarge(limit: Int)
        /// The header section is larger than the server reads (431, RFC 6585 §5).
        case headerFieldsTooLarge
        /// The body is not in a media type the route reads (415); `accepted` goes into `Accept-Post`/`Accept-Patch`.
        case unsupportedMediaType(accepted: [String])
        case unprocessable
        case rateLimited(retryAfterSeconds: Int)
        case unavailable
        /// An upstream provider failed or answered something unusable (502).
        case badGateway
        /// An upstream provider did not answer in time (504).
        case gatewayTimeout
        case `internal`
    }

    public var kind: Kind
    /// Short machine-readable problem code, the last segment of the problem `type` URI.
    public var code: String
    /// Human-readable explanation specific to this occurrence.
    public var detail: String
    /// For internal errors: why, in words for the operator, and where it was thrown (`fileID:line`). Logged once
    /// with the request id; never sent (the caller gets the generic `detail`).
    public var reason: String?
    public var site: String?

    public init(_ kind: Kind, code: String, detail: String) {
        self.kind = kind
        self.code = code
        self.detail = detail
    }
}

extension SwitchyardError {
    public static func notFound(_ what: String) -> Self {
        .init(.notFound, code: "not-found", detail: "\(what) was not found.")
    }

    public static func invalidRequest(_ detail: String) -> Self {
        .init(.badRequest, code: "invalid-request", detail: detail)
    }

    public static func validation(_ detail: String) -> Self {
        .init(.unprocessable, code: "validation-failed", detail: detail)
    }

    public static func conflict(_ detail: String) -> Self {
        .init(.conflict, code: "conflict", detail: detail)
    }

    public static func unauthorized(_ detail: String) -> Self {
        .init(.unauthorized, code: "unauthorized", detail: detail)
    }

    public static func forbidden(_ detail: String) -> Self {
        .init(.forbidden, code: "forbidden", detail: detail)
    }

    public static let internalError = Self(
        .internal,
        code: "internal-error",
        detail: "The server could not complete the request. Quote the request id when reporting this."
    )

    /// An internal error that says why and where: answered with the generic `internalError`, logged with both.
    public static func `internal`(_ reason: String, fileID: String = #fileID, line: Int = #line) -> Self {
        var error = internalError
        error.reason = reason
        error.site = "\(fileID):\(line)"
        return error
    }

    public static let databaseUnavailable = Self(
        .unavailable,
        code: "service-unavailable",
        detail: "The database is unavailable. Retry later."
    )
}

/// A domain error of another module that knows its API form; `ProblemDetails` answers with it
/// instead of a generic 500, so call sites need not convert.
public protocol SwitchyardErrorConvertible: Error {
    var switchyardError: SwitchyardError { get }
}
