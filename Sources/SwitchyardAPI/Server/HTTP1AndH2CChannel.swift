import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore

/// One cleartext port for both HTTP/1.1 and HTTP/2 with prior knowledge (h2c), so a proxy or a
/// service mesh can speak HTTP/2 to `serve` without TLS while curl and health checkers keep HTTP/1.1.
/// Hummingbird's own `.plaintextHTTP2()` answers only HTTP/2.
public struct HTTP1AndH2CChannel: HTTPChannelHandler {
    public enum Negotiated: Sendable {
        case http1(HTTP1Channel.Value)
        case http2(HTTP2Channel.Value)
    }

    public struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        public let channel: any Channel
    }

    private let http1: HTTP1Channel
    private let http2: HTTP2Channel

    public var responder: Responder { http1.responder }

    public init(responder: @escaping Responder, idleTimeout: Duration) {
        let seconds = idleTimeout.components.seconds
        self.http1 = HTTP1Channel(
            responder: responder,
            configuration: .init(additionalChannelHandlers: [HeaderOverflowResponder()], idleTimeout: .seconds(seconds))
        )
        self.http2 = HTTP2Channel(responder: responder, configuration: .init(idleTimeout: idleTimeout))
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let sniffer = HTTP2PrefaceSniffer<Negotiated>(eventLoop: channel.eventLoop) { isHTTP2 in
                isHTTP2
                    ? http2.setup(channel: channel, logger: logger).map { .http2($0) }
                    : http1.setup(channel: channel, logger: logger).map { .http1($0) }
            }
            try channel.pipeline.syncOperations.addHandler(sniffer)
            return Value(negotiated: sniffer.negotiated.futureResult, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1(let connection): await http1.handle(value: connection, logger: logger)
            case .http2(let connection): await http2.handle(value: connection, logger: logger)
            }
        } catch {
            logger.debug("connection closed before its protocol was known: \(error)")
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 and h2c on one cleartext port, each connection handled on its channel's event loop.
    public static func http1AndH2C(idleTimeout: Duration) -> HTTPServerBuilder {
        .init { responder in EventLoopPinnedChannel(base: HTTP1AndH2CChannel(responder: responder, idleTimeout: idleTimeout)) }
    }
}
