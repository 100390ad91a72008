import NIOCore

/// Decides between HTTP/1.1 and HTTP/2 on a cleartext connection from its first bytes.
///
/// An h2c client with prior knowledge opens with the fixed connection preface (RFC 9113 §3.4);
/// anything else is HTTP/1.1. The handler holds the bytes it has read, asks `configure` to build the
/// pipeline for the protocol it found, replays the bytes into that pipeline and removes itself.
final class HTTP2PrefaceSniffer<Negotiated: Sendable>: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static var preface: [UInt8] { Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) }

    private enum State {
        case sniffing
        case configuring
        case done
    }

    private var state = State.sniffing
    private var buffered: ByteBuffer?
    private let configure: (_ isHTTP2: Bool) -> EventLoopFuture<Negotiated>
    let negotiated: EventLoopPromise<Negotiated>

    init(eventLoop: any EventLoop, configure: @escaping (_ isHTTP2: Bool) -> EventLoopFuture<Negotiated>) {
        self.configure = configure
        self.negotiated = eventLoop.makePromise(of: Negotiated.self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        guard case .sniffing = state, let bytes = buffered?.readableBytesView else { return }
        let preface = Self.preface
        let compared = min(bytes.count, preface.count)
        if !bytes.prefix(compared).elementsEqual(preface.prefix(compared)) {
            decide(isHTTP2: false, context: context)
        } else if compared == preface.count {
            decide(isHTTP2: true, context: context)
        }
        // Otherwise a prefix of the preface: wait for more bytes.
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .done = state { context.fireChannelReadComplete() }
    }

    /// The server allows half-closure, so a client that connects and closes without sending a byte
    /// shows up as `inputClosed`, not as inactive: close our side too, or the connection (and graceful
    /// shutdown, which waits for it) would hang in CLOSE-WAIT.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .sniffing = state, let event = event as? ChannelEvent, case .inputClosed = event {
            negotiated.fail(ChannelError.eof)
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        negotiated.fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        negotiated.fail(error)
        context.close(promise: nil)
    }

    private func decide(isHTTP2: Bool, context: ChannelHandlerContext) {
        state = .configuring
        configure(isHTTP2).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let value):
                self.state = .done
                self.negotiated.succeed(value)
                if let buffered = self.buffered {
                    self.buffered = nil
                    context.fireChannelRead(self.wrapInboundOut(buffered))
                    context.fireChannelReadComplete()
                }
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            case .failure(let error):
                self.negotiated.fail(error)
                context.close(promise: nil)
            }
        }
    }
}
