import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection that sends a request and waits for its whole response: a load
/// generator lean enough not to take the CPU the server under test needs (the benchmark shares two cores).
final class BenchmarkHTTPConnection: Sendable {
    private let channel: any Channel
    private let handler: ResponseHandler

    private init(channel: any Channel, handler: ResponseHandler) {
        self.channel = channel
        self.handler = handler
    }

    static func connect(host: String, port: Int) async throws -> BenchmarkHTTPConnection {
        let handler = ResponseHandler()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: host, port: port).get()
        return BenchmarkHTTPConnection(channel: channel, handler: handler)
    }

    /// `count` connections, all open: a phase opens its connections before its clock starts, so that no measurement
    /// carries a connect (or the server's accept).
    static func connect(_ count: Int, host: String, port: Int) async throws -> [BenchmarkHTTPConnection] {
        try await withThrowingTaskGroup(of: BenchmarkHTTPConnection.self) { group in
            for _ in 0..<count {
                group.addTask { try await connect(host: host, port: port) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// Sends `head` and `body`; returns the response status once the response has ended.
    func send(_ head: HTTPRequestHead, body: ByteBuffer) async throws -> UInt {
        let promise = channel.eventLoop.makePromise(of: UInt.self)
        handler.expect(promise)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await promise.futureResult.get()
    }

    /// Sends `head` with no body (a GET); returns the response status once the response has ended.
    func send(_ head: HTTPRequestHead) async throws -> UInt {
        let promise = channel.eventLoop.makePromise(of: UInt.self)
        handler.expect(promise)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await promise.futureResult.get()
    }

    func close() async {
        try? await channel.close()
    }

    private final class ResponseHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPClientResponsePart
        private let pending = NIOLockedValueBox<(promise: EventLoopPromise<UInt>?, status: UInt)>((nil, 0))

        func expect(_ promise: EventLoopPromise<UInt>) {
            pending.withLockedValue { $0 = (promise, 0) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                pending.withLockedValue { $0.status = head.status.code }
            case .body:
                break
            case .end:
                let (promise, status) = pending.withLockedValue { state in
                    defer { state.promise = nil }
                    return (state.promise, state.status)
                }
                promise?.succeed(status)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            pending.withLockedValue { state in
                defer { state.promise = nil }
                return state.promise
            }?.fail(error)
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            pending.withLockedValue { state in
                defer { state.promise = nil }
                return state.promise
            }?.fail(ChannelError.ioOnClosedChannel)
        }
    }
}
