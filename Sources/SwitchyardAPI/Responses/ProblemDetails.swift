import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwitchyardCore
import SwitchyardPostgres

/// RFC 9457 problem details: the one place where failures become responses.
///
/// Only `SwitchyardError`s and Hummingbird's own HTTP errors say what went wrong; anything else
/// (a SQL error, a bug) is logged with the request id and answered with a generic 500.
enum ProblemDetails {
    static let typeBase = "https://switchyard.dev/problems/"

    struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
        let instance: String
    }

    static func payload(for error: any Error, requestID: String, logger: Logger) -> HTTPPayload {
        let problem = switchyardError(for: error, logger: logger)
        let status = problem.kind.status
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        switch problem.kind {
        case .rateLimited(let seconds):
            headers[.retryAfter] = String(seconds)
        case .methodNotAllowed(let allowed):
            headers[.allow] = allowed.joined(separator: ", ")
        case .unsupportedMediaType(let accepted):
            // RFC 9110 §15.5.16 and RFC 5789 §3.1: say what would have been read.
            headers[HTTPField.Name("Accept-Post")!] = accepted.joined(separator: ", ")
            headers[HTTPField.Name("Accept-Patch")!] = accepted.joined(separator: ", ")
        case .unauthorized:
            headers[.wwwAuthenticate] = "Bearer"
        case .unavailable:
            headers[.retryAfter] = "5"
        default:
            break
        }
        let body = Body(
            type: typeBase + problem.code,
            title: status.reasonPhrase,
            status: status.code,
            detail: problem.detail,
            instance: requestID
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = (try? encoder.encode(body)).map(Array.init) ?? Array("{\"status\":\(status.code)}".utf8)
        return HTTPPayload(status: status, headers: headers, body: bytes)
    }

    private static func switchyardError(for error: any Error, logger: Logger) -> SwitchyardError {
        if let error = error as? SwitchyardError {
            if case .internal = error.kind { logger.error("internal error", metadata: ["error": "\(error.detail)"]) }
            return error
        }
        if let error = error as? any SwitchyardErrorConvertible {
            return error.switchyardError
        }
        if let error = error as? HTTPError {
            // Raised by Hummingbird itself: routing and body limits. Its messages hold no internals.
            switch error.status {
            case .notFound: return .init(.notFound, code: "not-found", detail: "No route matches this path.")
            case .contentTooLarge:
                return .init(.payloadTooLarge(limit: 0), code: "payload-too-large", detail: "The request body is larger than this server accepts.")
            case .badRequest: return .invalidRequest(error.body ?? "The request is malformed.")
            default:
                if error.status.kind == .clientError {
                    return .init(.badRequest, code: "invalid-request", detail: error.body ?? error.status.reasonPhrase)
                }
            }
        }
        if let error = error as? any HTTPResponseError, error.status == .contentTooLarge {
            // NIO's body collector on routes that read it themselves: any body found too long while reading is a 413.
            return .init(.payloadTooLarge(limit: 0), code: "payload-too-large", detail: "The request body is larger than this server accepts.")
        }
        // Deliberately generic: the description may hold SQL or other internals.
        logger.error("unhandled error", metadata: ["error": "\(loggableDescription(of: error))"])
        return .internalError
    }
}

extension SwitchyardError.Kind {
    var status: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .unprocessable: .unprocessableContent
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .badGateway: .badGateway
        case .gatewayTimeout: .gatewayTimeout
        case .internal: .internalServerError
        }
    }

    var statusCode: Int { status.code }
}
