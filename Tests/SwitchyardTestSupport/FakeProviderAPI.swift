import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchyardMetrics
import SwitchyardOutbound
import Synchronization

/// A third-party API on a real loopback socket, programmable per test, so the production outbound
/// client runs unchanged against it.
///
/// Per path it can enforce a quota in fixed windows (announcing `X-RateLimit-Limit/-Remaining/-Reset` and
/// answering 429 beyond it), or play a script of replies (errors, `Retry-After`, slow or huge responses)
/// before falling back to a default. It records every request it receives, with its arrival time.
public final class FakeProviderAPI: Sendable {
    /// One scripted answer.
    public enum Reply: Sendable {
        /// `status` with extra headers and a small body.
        case status(Int, headers: [String: String] = [:], body: String = "")
        /// Waits `delay` before answering `status`.
        case slow(Duration, status: Int = 200)
        /// Streams `bytes` bytes in 64 KiB chunks, with or without a `Content-Length`.
        case huge(bytes: Int, declaredLength: Bool = false)
        /// Sends the head at once, then `chunks` small chunks, one every `interval`.
        case trickle(chunks: Int, interval: Duration)
    }

    /// How the quota announces its reset.
    public enum ResetStyle: Sendable {
        /// Seconds until the window ends, with millisecond decimals (`0.734`).
        case deltaSeconds
        /// Unix time of the window's end, rounded up to the second, as GitHub does.
        case epochSeconds
    }

    public struct Quota: Sendable {
        public var limit: Int
        public var window: Duration
        public var resetStyle: ResetStyle
        /// Each request is counted after a random delay of up to `transit` (its way to the provider), and its answer
        /// leaves after another (its way back): requests sent in one order can be counted in another, and a window's
        /// announcement reaches the client late, as over a real network.
        public var transit: Duration

        public init(limit: Int, window: Duration, resetStyle: ResetStyle = .deltaSeconds, transit: Duration = .zero) {
            self.limit = limit
            self.window = window
            self.resetStyle = resetStyle
            self.transit = transit
        }
    }

    /// A request as the fake received it.
    public struct ReceivedRequest: Sendable {
        public var method: HTTPRequest.Method
        /// The `Host` header (HTTP/1.1) or `:authority` (HTTP/2).
        public var authority: String?
        public var path: String
        public var query: String?
        public var headers: HTTPFields
        public var body: String
        public var receivedAt: ContinuousClock.Instant
        public var receivedAtUnixTime: Double
    }

    private struct QuotaState {
        var quota: Quota
        var origin: ContinuousClock.Instant?
        var window = -1
        var used = 0
    }

    private struct State {
        var scripts: [String: (pending: [Reply], fallback: Reply)] = [:]
        var deciders: [String: @Sendable (ReceivedRequest) -> Reply] = [:]
        var quotas: [String: QuotaState] = [:]
        var received: [ReceivedRequest] = []
        var tooManyRequestsServed = 0
        var hugeBodiesCompleted = 0
        var hugeBodiesAborted = 0
    }

    private let state = Mutex(State())
    private let boundPort = Mutex(0)
    private let clock = ContinuousClock()

    private init() {}

    /// The port the fake listens on, on 127.0.0.1.
    public var port: Int { boundPort.withLock { $0 } }
    /// `http://127.0.0.1:PORT`
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// The allow-list entry that lets the outbound client reach the fake: `127.0.0.1:PORT`.
    public var hostAndPort: String { "127.0.0.1:\(port)" }

    /// Enforces `quota` on requests to `path`.
    public func setQuota(_ quota: Quota, for path: String) {
        state.withLock { $0.quotas[path] = QuotaState(quota: quota) }
    }

    /// Answers requests to `path` with `replies` in order, then with `fallback` for ever.
    public func script(_ path: String, _ replies: [Reply], then fallback: Reply = .status(200, body: "ok")) {
        state.withLock { $0.scripts[path] = (replies, fallback) }
    }

    /// Answers requests to `path` with what `decide` says of each (it sees the request, body included).
    public func decide(_ path: String, _ decide: @escaping @Sendable (ReceivedRequest) -> Reply) {
        state.withLock { $0.deciders[path] = decide }
    }

    /// Requests received for `path` (all paths when `nil`), oldest first.
    public func requests(to path: String? = nil) -> [ReceivedRequest] {
        state.withLock { state in state.received.filter { path == nil || $0.path == path } }
    }

    /// 429 answers the quota has served.
    public var tooManyRequestsServed: Int { state.withLock { $0.tooManyRequestsServed } }

    /// Huge bodies written to the end.
    public var hugeBodiesCompleted: Int { state.withLock { $0.hugeBodiesCompleted } }
    /// Huge bodies whose writing failed because the client went away.
    public var hugeBodiesAborted: Int { state.withLock { $0.hugeBodiesAborted } }

    /// Starts a fake on a free port of 127.0.0.1, runs `body`, and shuts the fake down gracefully.
    public static func withRunning<Result: Sendable>(
        logger: Logger = Logger(label: "switchyard.tests.fake-provider", factory: { _ in SwiftLogNoOpLogHandler() }),
        _ body: @Sendable (FakeProviderAPI) async throws -> Result
    ) async throws -> Result {
        let api = FakeProviderAPI()
        return try await withLoopbackApplication(
            logger: logger,
            what: "the fake provider",
            make: { onServerRunning in
                Application(
                    responder: CallbackResponder<BasicRequestContext> { request, _ in try await api.respond(to: request) },
                    configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: "fake-provider"),
                    onServerRunning: onServerRunning,
                    logger: logger
                )
            },
            { port in
                api.boundPort.withLock { $0 = port }
                return try await body(api)
            }
        )
    }

    private func respond(to request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let path = request.uri.path
        let transit = state.withLock { $0.quotas[path]?.quota.transit } ?? .zero
        try await Self.travel(transit)
        let now = clock.now
        let received = ReceivedRequest(
            method: request.method,
            authority: request.head.authority,
            path: path,
            query: request.uri.query,
            headers: request.headers,
            body: String(buffer: body),
            receivedAt: now,
            receivedAtUnixTime: Date().timeIntervalSince1970
        )
        let (quotaAnswer, reply): (Response?, Reply) = state.withLock { state in
            state.received.append(received)
            if state.quotas[path] != nil {
                return (Self.enforce(&state, path: path, now: now), .status(200))
            }
            if let decide = state.deciders[path] { return (nil, decide(received)) }
            guard var script = state.scripts[path] else { return (nil, .status(200, body: "ok")) }
            let next = script.pending.isEmpty ? script.fallback : script.pending.removeFirst()
            state.scripts[path] = script
            return (nil, next)
        }
        if let quotaAnswer {
            try await Self.travel(transit)
            return quotaAnswer
        }

        switch reply {
        case .status(let status, let headers, let text):
            var fields = HTTPFields()
            for (name, value) in headers {
                if let name = HTTPField.Name(name) { fields[name] = value }
            }
            return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
        case .slow(let delay, let status):
            try await Task.sleep(for: delay)
            return Response(status: .init(code: status), body: .init(byteBuffer: ByteBuffer(string: "slow")))
        case .huge(let bytes, let declaredLength):
            let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
            let responseBody = ResponseBody(contentLength: declaredLength ? bytes : nil) { writer in
                do {
                    var left = bytes
                    while left > 0 {
                        let size = min(left, chunk.readableBytes)
                        try await writer.write(chunk.getSlice(at: chunk.readerIndex, length: size)!)
                        left -= size
                    }
                    try await writer.finish(nil)
                } catch {
                    self.state.withLock { $0.hugeBodiesAborted += 1 }
                    throw error
                }
                self.state.withLock { $0.hugeBodiesCompleted += 1 }
            }
            return Response(status: .ok, body: responseBody)
        case .trickle(let chunks, let interval):
            return Response(
                status: .ok,
                body: ResponseBody { writer in
                    for _ in 0..<chunks {
                        try await writer.write(ByteBuffer(string: "tick\n"))
                        try await Task.sleep(for: interval)
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }

    /// Sleeps a random part of `transit`.
    private static func travel(_ transit: Duration) async throws {
        guard transit > .zero else { return }
        try await Task.sleep(for: transit * Double.random(in: 0...1))
    }

    /// Counts the request in the current fixed window and answers with the quota headers, or 429.
    private static func enforce(_ state: inout State, path: String, now: ContinuousClock.Instant) -> Response {
        var quotaState = state.quotas[path]!
        let origin = quotaState.origin ?? now
        quotaState.origin = origin
        let window = quotaState.quota.window
        let index = Int((now - origin) / window)
        if index != quotaState.window {
            quotaState.window = index
            quotaState.used = 0
        }
        quotaState.used += 1
        let windowEnd = origin + window * index + window
        let untilReset = windowEnd - now
        let seconds = Double(untilReset.components.seconds) + Double(untilReset.components.attoseconds) / 1e18
        let reset: String
        switch quotaState.quota.resetStyle {
        case .deltaSeconds:
            reset = String(format: "%.3f", (seconds * 1000).rounded(.up) / 1000)
        case .epochSeconds:
            reset = String(Int((Date().timeIntervalSince1970 + seconds).rounded(.up)))
        }
        let limit = quotaState.quota.limit
        var headers: HTTPFields = [:]
        headers[HTTPField.Name("X-RateLimit-Limit")!] = String(limit)
        headers[HTTPField.Name("X-RateLimit-Remaining")!] = String(max(0, limit - quotaState.used))
        headers[HTTPField.Name("X-RateLimit-Reset")!] = reset
        state.quotas[path] = quotaState
        guard quotaState.used <= limit else {
            state.tooManyRequestsServed += 1
            headers[.retryAfter] = String(Int(seconds.rounded(.up)))
            return Response(status: .tooManyRequests, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "slow down")))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "ok")))
    }
}

extension FakeProviderAPI {
    /// Runs `body` with an outbound client allowed to reach this fake over plain http, then shuts the client down.
    public func withClient<Result: Sendable>(
        _ configuration: OutboundConfiguration = OutboundConfiguration(),
        metrics: OutboundMetrics? = nil,
        _ body: (OutboundClient) async throws -> Result
    ) async throws -> Result {
        var configuration = configuration
        configuration.plainHTTPAllowList.append(hostAndPort)
        return try await OutboundClient.withClient(OutboundClient(configuration: configuration, metrics: metrics), body)
    }

    /// A request to `path` on this fake, for the integration `key`.
    public func request(
        _ method: HTTPRequest.Method = .get,
        _ path: String,
        key: String = "integration-1",
        headers: HTTPFields = [:],
        body: String? = nil,
        retry: RetryPolicy = .never,
        maxRateLimitWait: Duration? = nil
    ) -> OutboundRequest {
        OutboundRequest(
            method: method,
            url: baseURL + path,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) },
            provider: "fake",
            key: key,
            retry: retry,
            maxRateLimitWait: maxRateLimitWait
        )
    }
}

extension OutboundClient {
    /// Runs `body` with `client`, then shuts the client down, also when `body` throws.
    public static func withClient<Result: Sendable>(_ client: OutboundClient, _ body: (OutboundClient) async throws -> Result) async throws -> Result
    {
        let result: Result
        do {
            result = try await body(client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return result
    }
}
