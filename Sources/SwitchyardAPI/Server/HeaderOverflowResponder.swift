import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import SwitchyardCore
import SwitchyardHTTP

/// Answers a request whose header section is over the decoder's limit (80 KB) with 431 and a problem document
/// (RFC 6585 §5, RFC 9457), instead of the bare 400 Hummingbird sends for every parse error.
///
/// It sits after the HTTP/1.1 codec and sees the parser's error before the request loop does. The connection
/// cannot be read any further, so the answer says `Connection: close` and the channel is closed; the error is
/// not passed on. A response already under way for an earlier request on the connection cannot be interleaved
/// with, so then the connection is only closed.
final class HeaderOverflowResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Requests read whose responses have not ended yet.
    private var unanswered = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { unanswered += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { unanswered -= 1 }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, parserError == .headerOverflow else {
            context.fireErrorCaught(error)
            return
        }
        guard unanswered == 0 else {
            context.close(promise: nil)
            return
        }
        let problem = ProblemResponse(Self.problem, instance: UUID().uuidString.lowercased())
        let body = ByteBuffer(bytes: problem.body)
        var headers = problem.headers
        headers[.contentLength] = "\(body.readableBytes)"
        headers[.connection] = "close"
        let head = HTTPResponse(status: problem.status, headerFields: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }

    static let problem = SwitchyardError(
        .headerFieldsTooLarge,
        code: "request-header-fields-too-large",
        detail: "The request's header fields are larger than the server reads (80 KB in all, 80 KB for one field). Send smaller headers."
    )
}
