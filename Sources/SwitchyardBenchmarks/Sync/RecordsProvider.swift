import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A third-party API serving a changing set of records on a loopback socket, paged in each style a sync definition
/// can describe, for the sync tests, `switchyard bench sync` and the README's walkthrough.
///
/// Records are `{"id": n, "updated_at": "...", "name": ..., "note": ...}`, listed in (updated_at, id) order; a
/// `since` parameter keeps those updated at or after it, as GitHub's does. Every request needs
/// `Authorization: Bearer <api key>`. Routes, all under the base URL:
/// - `GET /link/items?per_page&page&since`: an array, the next page in a `Link` header;
/// - `GET /cursor/items?limit&after&since`: `{"data": [...], "next_cursor": "..."|null}`;
/// - `GET /starting-after/items?limit&starting_after`: `{"data": [...], "has_more": bool}` (Stripe's style);
/// - `GET /next/items?limit&offset&since`: `{"items": [...], "next": "<absolute URL>"|null}`;
/// - `GET /offset/items?offset&limit&since`: `{"results": [...]}`;
/// - `GET /pages/items?page&size&since`: `{"records": [...], "has_more": bool}`, pages from 1;
/// - `POST /graphql` with `{"variables": {"first", "after", "since"}}`:
///   `{"data": {"items": {"nodes": [...], "pageInfo": {"hasNextPage", "endCursor"}}}}`.
public final class RecordsProvider: Sendable {
    /// An answer given instead of a page, once.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String

        public init(status: Int, headers: [String: String] = [:], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// A request as the provider received it.
    public struct Received: Sendable {
        public var method: HTTPRequest.Method
        public var path: String
        public var query: [String: String]
        public var body: String
        public var receivedAt: ContinuousClock.Instant
    }

    private struct Record {
        var id: Int
        var updatedAt: String
        var json: String
    }

    private struct State {
        var records: [Int: Record] = [:] {
            didSet { ordered = nil }
        }
        /// `records` in change order, rebuilt after a change: pages are served from it by binary search.
        var ordered: [Record]?
        /// Every change ticks the clock a second, so `updated_at` orders changes.
        var clock = 0
        var apiKey: String
        /// Per path: replies waiting, each after so many more requests to that path.
        var scripted: [String: [(after: Int, reply: Reply)]] = [:]
        var received: [Received] = []
        var recording = true
        var pageDelay: Duration = .zero
    }

    private let state: Mutex<State>
    private let boundPort = Mutex(0)
    private let filler: String
    /// The port to listen on; 0 lets the system choose.
    private let requestedPort: Int

    public init(apiKey: String, recordBytes: Int = 200, port: Int = 0) {
        state = Mutex(State(apiKey: apiKey))
        filler = String(repeating: "x", count: max(0, recordBytes - 120))
        requestedPort = port
    }

    public var port: Int { boundPort.withLock { $0 } }
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var hostAndPort: String { "127.0.0.1:\(port)" }

    // MARK: The data

    /// Creates or changes record `id`; it moves to the end of the change order.
    public func put(_ id: Int, name: String) {
        state.withLock { state in
            state.clock += 1
            let updatedAt = Self.timestamp(state.clock)
            state.records[id] = Record(id: id, updatedAt: updatedAt, json: Self.json(id: id, updatedAt: updatedAt, name: name, note: filler))
        }
    }

    /// Creates records `1...count` at once (the benchmark's data set).
    public func fill(count: Int) {
        state.withLock { state in
            for id in 1...max(1, count) {
                state.clock += 1
                let updatedAt = Self.timestamp(state.clock)
                state.records[id] = Record(
                    id: id,
                    updatedAt: updatedAt,
                    json: Self.json(id: id, updatedAt: updatedAt, name: "record \(id)", note: filler)
                )
            }
        }
    }

    public func remove(_ id: Int) {
        _ = state.withLock { $0.records.removeValue(forKey: id) }
    }

    /// The `updated_at` of record `id`, as the API shows it.
    public func updatedAt(_ id: Int) -> String? {
        state.withLock { $0.records[id]?.updatedAt }
    }

    public var count: Int { state.withLock { $0.records.count } }

    /// Records `start..<start + count` of the full listing (no `since`), as pages serve them: each record's id and
    /// JSON text. The benchmark's raw ceiling upserts these without HTTP.
    public func listing(from start: Int, count: Int) -> [(id: String, json: String)] {
        state.withLock { state in
            let all = state.ordered ?? state.records.values.sorted { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) }
            state.ordered = all
            guard start < all.count else { return [] }
            return all[max(0, start)..<min(all.count, start + max(1, count))].map { (String($0.id), $0.json) }
        }
    }

    /// Refuses the current key from now on (a revoked credential).
    public func changeAPIKey(to key: String) {
        state.withLock { $0.apiKey = key }
    }

    /// Answers the next request to `path` after `after` more have been served normally with `reply`, once.
    public func script(_ path: String, after: Int = 0, _ reply: Reply) {
        state.withLock { $0.scripted[path, default: []].append((after, reply)) }
    }

    public func requests(to path: String? = nil) -> [Received] {
        state.withLock { state in state.received.filter { path == nil || $0.path == path } }
    }

    /// Waits this long before every answer (a slow provider, so a test can stop a run half way).
    public func setPageDelay(_ delay: Duration) {
        state.withLock { $0.pageDelay = delay }
    }

    /// The benchmark turns the request log off: it would grow with every page.
    public func setRecording(_ on: Bool) {
        state.withLock { $0.recording = on }
    }

    static func timestamp(_ tick: Int) -> String {
        let date = Date(timeIntervalSince1970: 1_767_225_600 + TimeInterval(tick))
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
            .replacingOccurrences(of: "+0000", with: "Z")
    }

    static func json(id: Int, updatedAt: String, name: String, note: String) -> String {
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return #"{"id":\#(id),"updated_at":"\#(updatedAt)","name":"\#(escaped)","note":"\#(note)","active":true}"#
    }

    // MARK: Serving

    public static func withRunning<Result: Sendable>(
        _ provider: RecordsProvider,
        logger: Logger = Logger(label: "switchyard.records-provider", factory: { _ in SwiftLogNoOpLogHandler() }),
        _ body: @Sendable (RecordsProvider) async throws -> Result
    ) async throws -> Result {
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await provider.respond(to: request) },
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: provider.requestedPort), serverName: "records-provider"),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { Task { await group.triggerGracefulShutdown() } }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw RecordsProviderError("the records provider did not start") }
            provider.boundPort.withLock { $0 = port }
            let result = try await body(provider)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    private func respond(to request: Request) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
        let path = request.uri.path
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        let now = ContinuousClock.now
        let (authorized, scripted, delay) = state.withLock { state -> (Bool, Reply?, Duration) in
            if state.recording { state.received.append(Received(method: request.method, path: path, query: query, body: body, receivedAt: now)) }
            let authorized = request.headers[.authorization] == "Bearer \(state.apiKey)"
            guard var waiting = state.scripted[path], !waiting.isEmpty else { return (authorized, nil, state.pageDelay) }
            if waiting[0].after > 0 {
                waiting[0].after -= 1
                state.scripted[path] = waiting
                return (authorized, nil, state.pageDelay)
            }
            let reply = waiting.removeFirst().reply
            state.scripted[path] = waiting
            return (authorized, reply, state.pageDelay)
        }
        if delay > .zero { try await Task.sleep(for: delay) }
        if let scripted {
            var fields = HTTPFields()
            for (name, value) in scripted.headers {
                if let name = HTTPField.Name(name) { fields[name] = value }
            }
            if fields[.contentType] == nil { fields[.contentType] = "application/json" }
            return Response(status: .init(code: scripted.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: scripted.body)))
        }
        guard authorized else { return Self.json(#"{"message":"Bad credentials"}"#, status: .unauthorized) }
        switch (request.method, path) {
        case (.get, "/link/items"):
            let size = Self.int(query["per_page"], 30)
            let page = Self.int(query["page"], 1)
            let (items, more) = slice(since: query["since"], from: (page - 1) * size, count: size)
            var headers = HTTPFields()
            if more {
                var next = ["page": "\(page + 1)", "per_page": "\(size)"]
                next["since"] = query["since"]
                headers[HTTPField.Name("Link")!] =
                    #"<\#(baseURL)/link/items?\#(Self.queryString(next))>; rel="next", <\#(baseURL)/link/items?page=1>; rel="first""#
            }
            return Self.json("[" + items.joined(separator: ",") + "]", headers: headers)
        case (.get, "/cursor/items"):
            let size = Self.int(query["limit"], 50)
            let start = query["after"].flatMap { Int($0.dropFirst(2)) } ?? 0
            let (items, more) = slice(since: query["since"], from: start, count: size)
            let next = more ? #""c-\#(start + size)""# : "null"
            return Self.json(#"{"data":[\#(items.joined(separator: ","))],"next_cursor":\#(next)}"#)
        case (.get, "/starting-after/items"):
            let size = Self.int(query["limit"], 10)
            let (items, more) = slice(since: nil, afterID: query["starting_after"].flatMap { Int($0) }, count: size)
            return Self.json(#"{"object":"list","data":[\#(items.joined(separator: ","))],"has_more":\#(more)}"#)
        case (.get, "/next/items"):
            let size = Self.int(query["limit"], 50)
            let offset = Self.int(query["offset"], 0)
            let (items, more) = slice(since: query["since"], from: offset, count: size)
            var next = ["offset": "\(offset + size)", "limit": "\(size)"]
            next["since"] = query["since"]
            let url = more ? #""\#(baseURL)/next/items?\#(Self.queryString(next))""# : "null"
            return Self.json(#"{"items":[\#(items.joined(separator: ","))],"next":\#(url)}"#)
        case (.get, "/offset/items"):
            let (items, _) = slice(since: query["since"], from: Self.int(query["offset"], 0), count: Self.int(query["limit"], 50))
            return Self.json(#"{"results":[\#(items.joined(separator: ","))]}"#)
        case (.get, "/pages/items"):
            let size = Self.int(query["size"], 50)
            let page = Self.int(query["page"], 1)
            let (items, more) = slice(since: query["since"], from: (page - 1) * size, count: size)
            return Self.json(#"{"records":[\#(items.joined(separator: ","))],"has_more":\#(more)}"#)
        case (.post, "/graphql"):
            let variables = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["variables"] as? [String: Any] ?? [:]
            let size = (variables["first"] as? Int) ?? 50
            let start = (variables["after"] as? String).flatMap { Int($0.dropFirst(2)) } ?? 0
            let (items, more) = slice(since: variables["since"] as? String, from: start, count: size)
            let cursor = more ? #""c-\#(start + size)""# : "null"
            return Self.json(
                #"{"data":{"items":{"nodes":[\#(items.joined(separator: ","))],"pageInfo":{"hasNextPage":\#(more),"endCursor":\#(cursor)}}}}"#
            )
        default:
            return Self.json(#"{"message":"Not Found"}"#, status: .notFound)
        }
    }

    /// Records in change order, updated at or after `since`, from position `start` (or after record `afterID`).
    private func slice(since: String?, from start: Int = 0, afterID: Int? = nil, count: Int) -> (items: [String], more: Bool) {
        state.withLock { state in
            let all = state.ordered ?? state.records.values.sorted { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) }
            state.ordered = all
            // The first record updated at or after `since`.
            var low = 0
            var high = all.count
            while let since, low < high {
                let middle = (low + high) / 2
                if all[middle].updatedAt < since { low = middle + 1 } else { high = middle }
            }
            let ordered = all[low...]
            var from = ordered.startIndex + max(0, start)
            if let afterID { from = (ordered.firstIndex { $0.id == afterID }).map { $0 + 1 } ?? ordered.endIndex }
            guard from < ordered.endIndex else { return ([], false) }
            let end = min(ordered.endIndex, from + max(1, count))
            return (ordered[from..<end].map(\.json), end < ordered.endIndex)
        }
    }

    private static func int(_ text: String?, _ fallback: Int) -> Int { text.flatMap { Int($0) } ?? fallback }

    private static func queryString(_ query: [String: String]) -> String {
        query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            .joined(separator: "&")
    }

    private static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

public struct RecordsProviderError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
