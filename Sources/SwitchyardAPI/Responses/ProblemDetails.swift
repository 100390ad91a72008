import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwitchyardCore
import SwitchyardHTTP
import SwitchyardPostgres

/// RFC 9457 problem details: the one place where failures become responses.
///
/// Only `SwitchyardError`s and Hummingbird's own HTTP errors say what went wrong; anything else
/// (a SQL error, a bug) is logged with the request id and answered with a generic 500.
enum ProblemDetails {
    static func payload(for error: any Error, requestID: String, logger: Logger) -> HTTPPayload {
        let problem = ProblemResponse(switchyardError(for: error, logger: logger), instance: requestID)
        return HTTPPayload(status: problem.status, headers: problem.headers, body: problem.body)
    }

    /// The status `error` is answered with, without logging anything (usage counting).
    static func status(of error: any Error) -> Int {
        switch error {
        case let error as SwitchyardError: error.kind.statusCode
        case let error as any SwitchyardErrorConvertible: error.switchyardError.kind.statusCode
        case let error as any HTTPResponseError: error.status.code
        default: 500
        }
    }

    private static func switchyardError(for error: any Error, logger: Logger) -> SwitchyardError {
        if let error = error as? SwitchyardError {
            if case .internal = error.kind {
                logger.error("internal error", metadata: ["reason": "\(error.reason ?? "not given")", "site": "\(error.site ?? "unknown")"])
            }
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
    var statusCode: Int { status.code }
}
