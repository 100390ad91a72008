import Foundation
import SwitchyardCore

/// The request for one page of a run: the definition's request with the connection parameters filled in, the
/// pagination's cursor, offset or page number, the page size and, in an incremental run, the checkpoint.
struct SyncPageRequest: Sendable, Equatable {
    var method: SyncRequestTemplate.Method
    var url: String
    var body: String?

    /// `since` is the checkpoint an incremental run asks for changes after; `nil` in a full run.
    init(
        _ definition: SyncDefinition,
        baseURL: String,
        connectionParameters: [String: String],
        position: SyncPagePosition,
        since: JSONValue?
    ) throws(SyncRunFailure) {
        method = definition.request.method
        var query = definition.request.query
        var body = definition.request.body
        func place(_ value: JSONValue, in parameter: SyncParameter?) throws(SyncRunFailure) {
            guard let parameter else { return }
            switch parameter.location {
            case .query:
                query[parameter.name] = value.text ?? Self.jsonText(value)
            case .body:
                // Validated when the definition was saved.
                guard let pointer = try? JSONPointer(parameter.name) else { throw .definition("\(parameter.name) is not a JSON pointer") }
                body = (body ?? .object([:])).setting(value, at: pointer.tokens)
            }
        }
        let pagination = definition.pagination
        if let since, let incremental = definition.incremental {
            try place(since, in: incremental.parameter)
        }
        if let size = pagination.pageSize {
            try place(.number(Double(size)), in: pagination.limitParameter)
        }
        switch position {
        case .start:
            switch pagination.style {
            case .offset: try place(.number(0), in: pagination.parameter)
            case .pageNumber: try place(.number(Double(pagination.firstPage)), in: pagination.parameter)
            default: break
            }
        case .cursor(let cursor): try place(.string(cursor), in: pagination.parameter)
        case .offset(let offset): try place(.number(Double(offset)), in: pagination.parameter)
        case .page(let page): try place(.number(Double(page)), in: pagination.parameter)
        case .url(let url):
            // The provider's own next link carries every parameter; a POST keeps its body.
            self.url = url
            self.body = try body.map { value throws(SyncRunFailure) in try Self.encode(value) }
            return
        case .done:
            throw .definition("the run has no page left to read")
        }
        url = baseURL + (try Self.expand(definition.request.path, with: connectionParameters)) + Self.queryString(query)
        self.body = try body.map { value throws(SyncRunFailure) in try Self.encode(value) }
    }

    /// The path with each `{name}` replaced by the connection parameter, percent-encoded as one segment.
    static func expand(_ path: String, with parameters: [String: String]) throws(SyncRunFailure) -> String {
        var result = ""
        var rest = Substring(path)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            result += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            guard let value = parameters[name] else {
                throw .definition("the request path names '{\(name)}', which this integration has no connection parameter for")
            }
            result += value.addingPercentEncoding(withAllowedCharacters: .urlPathSegmentAllowed) ?? ""
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    static func queryString(_ query: [String: String]) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.sorted { $0.key < $1.key }.map { "\(encodeComponent($0.key))=\(encodeComponent($0.value))" }
        return "?" + pairs.joined(separator: "&")
    }

    /// RFC 3986 unreserved characters stay; everything else is percent-encoded (`+`, `&`, `=` and `:` too).
    static func encodeComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlUnreserved) ?? ""
    }

    static func encode(_ value: JSONValue) throws(SyncRunFailure) -> String {
        do { return try JSONText.encode(value) } catch { throw .definition("the request body could not be encoded: \(error)") }
    }

    static func jsonText(_ value: JSONValue) -> String {
        (try? JSONText.encode(value)) ?? ""
    }
}

extension CharacterSet {
    static let urlUnreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    static let urlPathSegmentAllowed = urlUnreserved.union(CharacterSet(charactersIn: "!$&'()*+,;=:@"))
}
