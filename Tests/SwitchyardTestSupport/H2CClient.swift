import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix

/// A minimal HTTP/2 client speaking cleartext HTTP/2 with prior knowledge (h2c), as
/// `curl --http2-prior-knowledge` does: proves the server's port answers HTTP/2 without TLS or Upgrade.
public enum H2CClient {
    public struct Response: Sendable {
        public let status: Int
        public let headers: [(String, String)]
        public let body: String

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// Sends `requests` concurrently as streams of one connection; answers in the same order.
    public static func get(host: String = "127.0.0.1", port: Int, paths: [String], headers: [(String, String)] = []) async throws -> [Response] {
        let (connection, multiplexer) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let multiplexer = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(mode: .client) { stream in
                        stream.eventLoop.makeSucceededVoidFuture()
                    }
                    return (channel, multiplexer)
                }
            }
        defer { connection.close(promise: nil) }
        return try await withThrowingTaskGroup(of: (Int, Response).self) { group in
            for (index, path) in paths.enumerated() {
                group.addTask {
                    let stream = try await multiplexer.openStream { streamChannel in
                        streamChannel.eventLoop.makeCompletedFuture {
                            try streamChannel.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http))
                            return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: streamChannel)
                        }
                    }
                    return (index, try await exchange(on: stream, host: host, path: path, headers: headers))
                }
            }
            var responses = [Response?](repeating: nil, count: paths.count)
            for try await (index, response) in group { responses[index] = response }
            return responses.compactMap { $0 }
        }
    }

    private static func exchange(
        on stream: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>,
        host: String,
        path: String,
        headers: [(String, String)]
    ) async throws -> Response {
        try await stream.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http2, method: .GET, uri: path)
            head.headers.add(name: "host", value: host)
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            var status = 0
            var fields: [(String, String)] = []
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let response):
                    status = Int(response.status.code)
                    fields = response.headers.map { ($0.name, $0.value) }
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                case .end:
                    return Response(status: status, headers: fields, body: String(buffer: body))
                }
            }
            return Response(status: status, headers: fields, body: String(buffer: body))
        }
    }
}
