import Foundation
import Hummingbird
import NIOCore
import SwitchyardCore

/// A request body that refuses unknown fields (`id`, `tenant_id`, timestamps, typos) instead of silently ignoring
/// them (REQUIREMENTS API-3). The generated request types do so themselves: the document gives each request schema
/// `additionalProperties: false`. A hand-written body names its `fields` instead.
protocol StrictJSONBody: Decodable, Sendable {
    /// The accepted fields of a hand-written body; `nil` for the generated types, which check their own.
    static var fields: Set<String>? { get }
    /// The fields that may be `null` (the document marks them so); a `null` anywhere else is refused, rather
    /// than read as left out.
    static var nullableFields: Set<String> { get }
    /// Fields holding the caller's own JSON object (a job's `payload`), where `null` is data.
    static var freeFormFields: Set<String> { get }
    /// Checks values beyond their types; throws a 422 that names the field.
    func validate() throws(SwitchyardError)
    /// Checks the members before decoding, for a rule whose own message decoding would replace with a generic one
    /// (a value outside a generated enum); throws a 422 that names the field.
    static func precheck(_ members: [String: Any]) throws(SwitchyardError)
}

extension StrictJSONBody {
    static var fields: Set<String>? { nil }
    func validate() throws(SwitchyardError) {}
    static func precheck(_ members: [String: Any]) throws(SwitchyardError) {}
    static var nullableFields: Set<String> { [] }
    static var freeFormFields: Set<String> { [] }

    /// Decodes a body already read in full: 400 for malformed JSON, 422 for unknown fields or wrong types.
    static func decode(from buffer: ByteBuffer) throws -> Self {
        let data = Data(buffer.readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw SwitchyardError.invalidRequest("The request body is not valid JSON.")
        }
        guard let members = object as? [String: Any] else {
            throw SwitchyardError.invalidRequest("The request body must be a JSON object.")
        }
        let fieldsSent = members.keys
        if let path = JSONPaths.firstNUL(in: object) {
            throw SwitchyardError.validation("The field '\(path)' contains a NUL character (\\u0000), which cannot be stored.")
        }
        if let fields {
            let unknown = Set(fieldsSent).subtracting(fields).sorted()
            guard unknown.isEmpty else {
                throw SwitchyardError.validation(
                    "Unknown field\(unknown.count > 1 ? "s" : ""): \(unknown.joined(separator: ", ")). Accepted: \(fields.sorted().joined(separator: ", "))."
                )
            }
        }
        if let null = JSONPaths.first(in: object, skipping: nullableFields.union(freeFormFields), where: { $0 is NSNull }) {
            throw SwitchyardError.validation("The field '\(null)' may not be null; leave it out instead.")
        }
        for field in freeFormFields.sorted() {
            if let value = members[field], !(value is NSNull), !(value is [String: Any]) {
                throw SwitchyardError.validation("\(field) must be a JSON object.")
            }
        }
        try precheck(members)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            guard let date = RFC3339Timestamp.date(from: try container.decode(String.self)) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 date-time such as 2026-11-29T12:00:00Z")
            }
            return date
        }
        let value: Self
        do {
            value = try decoder.decode(Self.self, from: data)
        } catch let error as DecodingError {
            throw SwitchyardError.validation(Self.describe(error))
        }
        try value.validate()
        return value
    }

    /// A decoding failure as a 422 detail that names the field.
    static func describe(_ error: DecodingError) -> String {
        /// `scopes[1]`, `options.tags[0]`.
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.reduce(into: "") { path, key in
                if let index = key.intValue {
                    path += "[\(index)]"
                } else {
                    path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
        }
        switch error {
        case .keyNotFound(let key, _): return "The field '\(key.stringValue)' is required."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "The field '\(path(context))' has the wrong type or is null."
        case .dataCorrupted(let context) where context.debugDescription.hasPrefix("Additional properties are disabled"):
            // From a generated type (swift-openapi-runtime's `ensureNoAdditionalProperties`): the path ends at the
            // first unknown key.
            return "Unknown field '\(path(context))'. The document (openapi/openapi.yaml) lists the accepted fields."
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "The request body is malformed." : "The field '\(path(context))' is not valid: \(context.debugDescription)."
        @unknown default: return "The request body does not match the expected shape."
        }
    }
}

/// A UUID in a request body (`integration_id`, `ids[0]`): the generated types hold them as strings.
enum UUIDField {
    static func parse(_ text: String, field: String) throws(SwitchyardError) -> UUID {
        guard let id = UUID(uuidString: text) else {
            throw .validation("The field '\(field)' is not valid: Attempted to decode UUID from invalid UUID string..")
        }
        return id
    }

    static func parse(ifPresent text: String?, field: String) throws(SwitchyardError) -> UUID? {
        guard let text else { return nil }
        return try parse(text, field: field)
    }
}

extension Request {
    /// Reads the whole body, or answers 413 when it exceeds `limit` bytes (checked against
    /// `Content-Length` first, so an oversize upload is refused before it is read).
    func collectBody(limit: Int) async throws -> ByteBuffer {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw SwitchyardError.payloadTooLarge(limit: limit)
        }
        do {
            return try await body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // Also NIO's `NIOTooManyBytesError`: a body without a declared length (chunked) found too long while
            // reading (issue 12, item 3).
            throw SwitchyardError.payloadTooLarge(limit: limit)
        }
    }

    /// Reads a JSON request body (see `collectBody`); a body in another media type, or with none declared, is
    /// refused with 415 (issue 12, item 4). An empty body passes: the route decides whether it needs one.
    func collectJSONBody(limit: Int) async throws -> ByteBuffer {
        let body = try await collectBody(limit: limit)
        guard body.readableBytes == 0 || Self.isJSON(headers[.contentType]) else {
            throw SwitchyardError(
                .unsupportedMediaType(accepted: ["application/json"]),
                code: "unsupported-media-type",
                detail:
                    "Send the body as JSON with `Content-Type: application/json`; got \(headers[.contentType].map { "`\($0)`" } ?? "no Content-Type")."
            )
        }
        return body
    }

    /// `application/json` or an `application/...+json` type, with any parameters.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }

    /// `limit` and `cursor` from the query string, with `limit` capped (REQUIREMENTS API-4). Any other parameter
    /// than these and the list's `filters` is refused with 400, as the API document says: a misspelt filter
    /// (`?staus=dead`) silently ignored would list everything.
    func pageRequest(_ limits: LimitsConfiguration, filters: Set<String> = []) throws -> PageRequest {
        try refuseUnknownQueryParameters(accepting: filters.union(["limit", "cursor"]))
        let cursor = try uri.queryParameters["cursor"].map { try PageCursor(token: String($0)) }
        return PageRequest(limit: try pageLimit(limits), cursor: cursor)
    }

    /// Refuses (400) a query parameter other than `accepted`.
    func refuseUnknownQueryParameters(accepting accepted: Set<String>) throws {
        for (name, _) in uri.queryParameters where !accepted.contains(String(name)) {
            throw SwitchyardError.invalidRequest(
                "Unknown query parameter '\(name)'. This list accepts: \(accepted.sorted().joined(separator: ", "))."
            )
        }
    }

    /// `limit` from the query string, capped at the maximum page size.
    func pageLimit(_ limits: LimitsConfiguration) throws -> Int {
        guard let text = uri.queryParameters["limit"] else { return limits.defaultPageSize }
        // Any larger whole number is capped, however many digits it has (issue 12, item 14).
        let isWholeNumber = !text.isEmpty && text.utf8.allSatisfy { (48...57).contains($0) }
        guard isWholeNumber, text.contains(where: { $0 != "0" }) else {
            throw SwitchyardError.invalidRequest("limit must be a whole number from 1 to \(limits.maxPageSize).")
        }
        return min(Int(text) ?? .max, limits.maxPageSize)
    }

    /// A UUID path parameter; a malformed one is simply a resource that does not exist.
    func uuid(_ name: String, context: some RequestContext, resource: String) throws -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else {
            throw SwitchyardError.notFound(resource)
        }
        return id
    }
}

extension SwitchyardError {
    static func payloadTooLarge(limit: Int) -> Self {
        .init(.payloadTooLarge(limit: limit), code: "payload-too-large", detail: "The request body is larger than \(limit) bytes.")
    }
}
