import Foundation
import HTTPTypes
import SwitchyardCore

/// An RFC 9457 problem document for a `SwitchyardError`: its status, the headers its kind calls for, and the body.
/// The API's error middleware, the probe servers of `executor` and `scheduler`, and the 431 answer to oversized
/// headers all render failures through it, so every problem the platform sends has one shape.
public struct ProblemResponse: Sendable {
    public static let typeBase = "https://switchyard.dev/problems/"

    public let status: HTTPResponse.Status
    public let headers: HTTPFields
    public let body: [UInt8]

    private struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
        let instance: String
    }

    public init(_ problem: SwitchyardError, instance: String) {
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
            type: Self.typeBase + problem.code,
            title: status.reasonPhrase,
            status: status.code,
            detail: problem.detail,
            instance: instance
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.status = status
        self.headers = headers
        self.body = (try? encoder.encode(body)).map(Array.init) ?? Array("{\"status\":\(status.code)}".utf8)
    }
}

extension SwitchyardError.Kind {
    public var status: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .headerFieldsTooLarge: .requestHeaderFieldsTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .unprocessable: .unprocessableContent
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .badGateway: .badGateway
        case .gatewayTimeout: .gatewayTimeout
        case .internal: .internalServerError
        }
    }
}
