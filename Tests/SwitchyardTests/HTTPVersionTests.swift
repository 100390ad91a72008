import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("HTTP/1.1, h2c and h2 over TLS on a real socket")
struct HTTPVersionTests {
    @Test("one cleartext port answers HTTP/1.1 and HTTP/2 with prior knowledge (h2c)")
    func cleartextPort() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withLiveServer { port in
            // HTTP/2, several streams on one connection, one of them authenticated.
            let operatorKey = ("authorization", "Bearer \(TestEnvironment.adminKey)")
            let h2 = try await H2CClient.get(port: port, paths: ["/healthz", "/v1/tenants", "/nowhere"], headers: [operatorKey])
            #expect(h2.map(\.status) == [200, 200, 404])
            #expect(h2.allSatisfy { $0.header("x-request-id") != nil })
            #expect(h2[2].header("content-type") == "application/problem+json")
            #expect(h2[1].body.contains("\"data\""))

            // HTTP/1.1 on the same port.
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(10))
                #expect(response.status == .ok)
                #expect(response.version == .http1_1)
                try await client.shutdown()
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    @Test("with a certificate the port speaks TLS and negotiates h2 by ALPN, with HTTP/1.1 as fallback")
    func tls() async throws {
        let environment = try await TestEnvironment.make()
        let directory = URL(filePath: NSTemporaryDirectory()).appending(path: "switchyard-tls-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try SelfSignedCertificate.write(into: directory)
        try await environment.withLiveServer(http: HTTPConfiguration(host: "127.0.0.1", port: 0, tls: files)) { port in
            for version in [HTTPClient.Configuration.HTTPVersion.automatic, .http1Only] {
                var configuration = HTTPClient.Configuration()
                configuration.tlsConfiguration = .makeClientConfiguration()
                configuration.tlsConfiguration?.certificateVerification = .none
                configuration.httpVersion = version
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
                do {
                    let response = try await client.execute(HTTPClientRequest(url: "https://localhost:\(port)/healthz"), timeout: .seconds(10))
                    #expect(response.status == .ok)
                    #expect(response.version == (version == .http1Only ? .http1_1 : .http2))
                    try await client.shutdown()
                } catch {
                    try? await client.shutdown()
                    throw error
                }
            }
        }
    }

    @Test("a client that connects and half-closes before sending a byte is closed, so shutdown never waits for it")
    func halfClosedBeforeFirstByte() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withLiveServer { port in
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connect(host: "127.0.0.1", port: port).get()
            try await channel.close(mode: .output)
            // The server must close its side; before the fix it sat in CLOSE-WAIT and graceful shutdown hung.
            let closed = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await channel.closeFuture.get()
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return false
                }
                let first = try await group.next() ?? false
                if !first { try? await channel.close() }  // completes closeFuture, so the group can end
                group.cancelAll()
                return first
            }
            #expect(closed, "the server kept a half-closed connection open")
        }
    }
}
