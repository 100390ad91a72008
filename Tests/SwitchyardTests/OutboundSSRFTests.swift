import NIOCore
import SwitchyardOutbound
import SwitchyardTestSupport
import Synchronization
import Testing

@Suite("Outbound SSRF guard")
struct OutboundSSRFTests {
    static let forbidden: [(String, SSRFViolation.Reason)] = [
        ("http://169.254.169.254/latest/meta-data/", .schemeNotAllowed("http")),
        ("https://169.254.169.254/latest/meta-data/", .forbiddenAddress(.linkLocal)),
        ("https://10.0.0.1/", .forbiddenAddress(.privateNetwork)),
        ("https://172.16.5.4/", .forbiddenAddress(.privateNetwork)),
        ("https://172.31.255.255/", .forbiddenAddress(.privateNetwork)),
        ("https://192.168.1.1:8443/", .forbiddenAddress(.privateNetwork)),
        ("https://100.64.0.1/", .forbiddenAddress(.sharedAddressSpace)),
        ("https://100.127.255.254/", .forbiddenAddress(.sharedAddressSpace)),
        ("https://127.0.0.1/", .forbiddenAddress(.loopback)),
        ("https://127.1/", .forbiddenAddress(.loopback)),
        ("https://0.0.0.0/", .forbiddenAddress(.unspecified)),
        ("https://224.0.0.1/", .forbiddenAddress(.multicast)),
        ("https://255.255.255.255/", .forbiddenAddress(.reserved)),
        ("https://0x7f000001/", .forbiddenAddress(.loopback)),
        ("https://2130706433/", .forbiddenAddress(.loopback)),
        ("https://0177.0.0.1/", .forbiddenAddress(.loopback)),
        ("https://017700000001/", .forbiddenAddress(.loopback)),
        ("https://0x7f.1/", .forbiddenAddress(.loopback)),
        ("https://0xa9.0xfe.0xa9.0xfe/", .forbiddenAddress(.linkLocal)),
        ("https://[::1]/", .forbiddenAddress(.loopback)),
        ("https://[::]/", .forbiddenAddress(.unspecified)),
        ("https://[::ffff:127.0.0.1]/", .forbiddenAddress(.loopback)),
        ("https://[::ffff:7f00:1]/", .forbiddenAddress(.loopback)),
        ("https://[::ffff:a9fe:a9fe]/", .forbiddenAddress(.linkLocal)),
        ("https://[::ffff:10.1.2.3]/", .forbiddenAddress(.privateNetwork)),
        ("https://[64:ff9b::a00:1]/", .forbiddenAddress(.privateNetwork)),
        ("https://[2002:7f00:1::]/", .forbiddenAddress(.loopback)),
        ("https://[fc00::1]/", .forbiddenAddress(.uniqueLocal)),
        ("https://[fd12:3456:789a::1]/", .forbiddenAddress(.uniqueLocal)),
        ("https://[fe80::1]/", .forbiddenAddress(.linkLocal)),
        ("https://[ff02::1]/", .forbiddenAddress(.multicast)),
        ("https://user:pw@example.com/", .userInfo),
        ("https://user@example.com/", .userInfo),
        ("http://example.com/", .schemeNotAllowed("http")),
        ("ftp://example.com/file", .schemeNotAllowed("ftp")),
        ("file:///etc/passwd", .invalidURL),
        ("not a url", .invalidURL),
        ("https://localhost/", .forbiddenAddress(.loopback)),
        ("https://LOCALHOST.:8443/", .forbiddenAddress(.loopback)),
    ]

    @Test("every forbidden destination is refused with its reason", arguments: forbidden)
    func refusesForbidden(url: String, reason: SSRFViolation.Reason) async throws {
        let ssrfGuard = SSRFGuard()
        let error = await #expect(throws: SSRFViolation.self) { try await ssrfGuard.check(url) }
        #expect(error?.reason == reason, "\(url)")
        // The message names the rule, never the address, so it can be shown to the tenant.
        #expect(error?.description.contains("127.0.0.1") == false)
    }

    @Test("public https addresses pass without DNS, and IPv6 public addresses too")
    func allowsPublicLiterals() async throws {
        let ssrfGuard = SSRFGuard()
        let v4 = try await ssrfGuard.check("https://93.184.215.14/path?q=1")
        #expect(v4.addresses == [.v4(0x5db8_d70e)])
        #expect(v4.port == 443)
        let v6 = try await ssrfGuard.check("https://[2606:4700:4700::1111]:8443/")
        #expect(v6.port == 8443)
        #expect(v6.isAllowListed == false)
    }

    @Test("a URL checked before is not trusted blindly: its name is resolved again once the answer expires, and a refusal stays a refusal")
    func repeatedChecks() async throws {
        // The name first resolves to a public address, then to a private one.
        let answers = Mutex<[[IPAddress]]>([[.v4(0x5db8_d70e)], [.v4(0x0a00_0001)]])
        let ssrfGuard = SSRFGuard(
            allowList: [],
            resolver: { _ in answers.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] } },
            resolutionCacheTTL: .zero
        )
        let first = try await ssrfGuard.check("https://hooks.example.com/in")
        #expect(first.addresses == [.v4(0x5db8_d70e)])
        let error = await #expect(throws: SSRFViolation.self) { try await ssrfGuard.check("https://hooks.example.com/in") }
        #expect(error?.reason == .forbiddenAddress(.privateNetwork))
        for _ in 0..<3 {
            let again = await #expect(throws: SSRFViolation.self) { try await ssrfGuard.check("https://10.0.0.1/in") }
            #expect(again?.reason == .forbiddenAddress(.privateNetwork))
        }
        #expect(try await ssrfGuard.check("https://93.184.215.14/in").addresses == [.v4(0x5db8_d70e)])
        #expect(try await ssrfGuard.check("https://93.184.215.14/in").addresses == [.v4(0x5db8_d70e)])
    }

    @Test("an allow-listed loopback fake server may use http and is reached by the client")
    func allowListedFake() async throws {
        try await FakeProviderAPI.withRunning { api in
            let ssrfGuard = SSRFGuard(allowList: [api.hostAndPort])
            let destination = try await ssrfGuard.check(api.baseURL + "/ping")
            #expect(destination.isAllowListed)
            // The allow-list names a port: another port on the same host is still refused.
            let otherPort = await #expect(throws: SSRFViolation.self) { try await ssrfGuard.check("http://127.0.0.1:\(api.port + 1)/") }
            #expect(otherPort?.reason == .schemeNotAllowed("http"))

            try await api.withClient { client in
                let response = try await client.send(api.request(.get, "/ping"), logger: .init(label: "test"))
                #expect(response.status == .ok)
                #expect(api.requests(to: "/ping").count == 1)
            }
        }
    }

    @Test("the client refuses a forbidden destination before connecting")
    func clientRefuses() async throws {
        let client = OutboundClient(metrics: nil)
        try await OutboundClient.withClient(client) { client in
            let request = OutboundRequest(method: .get, url: "https://10.0.0.1/admin", provider: "test", key: "k")
            let error = await #expect(throws: OutboundError.self) { try await client.send(request, logger: .init(label: "test")) }
            #expect(error?.kind == .blocked(.forbiddenAddress(.privateNetwork)))
            #expect(error?.outcome == .blocked)
            #expect(error?.attempts == 0)
        }
    }

    @Test("a name that resolved to a public address but connects to loopback (DNS rebinding) is refused at connect time")
    func connectTimeCheck() async throws {
        try await FakeProviderAPI.withRunning { api in
            // The guard's resolver says a public address; the connection goes to 127.0.0.1, as after a rebind.
            let ssrfGuard = SSRFGuard(allowList: ["rebind.test:\(api.port)"], resolver: { _ in [.v4(0x5db8_d70e)] })
            var configuration = OutboundConfiguration()
            configuration.dnsOverride = ["rebind.test": "127.0.0.1"]
            let client = OutboundClient(configuration: configuration, metrics: nil, ssrfGuard: ssrfGuard, unitRandom: { 0 })
            try await OutboundClient.withClient(client) { client in
                let request = OutboundRequest(
                    method: .get,
                    url: "http://rebind.test:\(api.port)/secret",
                    provider: "test",
                    key: "k",
                    retry: .standard
                )
                let error = await #expect(throws: OutboundError.self) { try await client.send(request, logger: .init(label: "test")) }
                #expect(error?.kind == .blocked(.forbiddenAddress(.loopback)))
                #expect(error?.attempts == 1, "a blocked connection is not retried")
            }
            #expect(api.requests().isEmpty, "no request may reach the server")
        }
    }

    @Test("the connect-time check refuses forbidden socket addresses unless pinned by the allow-list")
    func permitsConnection() throws {
        let ssrfGuard = SSRFGuard(allowList: ["127.0.0.1:8081"])
        #expect(ssrfGuard.permitsConnection(to: try SocketAddress(ipAddress: "127.0.0.1", port: 8081)))
        #expect(!ssrfGuard.permitsConnection(to: try SocketAddress(ipAddress: "127.0.0.1", port: 8082)))
        #expect(!ssrfGuard.permitsConnection(to: try SocketAddress(ipAddress: "::ffff:169.254.169.254", port: 80)))
        #expect(!ssrfGuard.permitsConnection(to: try SocketAddress(ipAddress: "10.1.2.3", port: 443)))
        #expect(ssrfGuard.permitsConnection(to: try SocketAddress(ipAddress: "93.184.215.14", port: 443)))
    }

    @Test("IP literals parse in the forms getaddrinfo accepts and no others")
    func parsing() {
        #expect(IPAddress(parsing: "127.0.0.1") == .v4(0x7f00_0001))
        #expect(IPAddress(parsing: "0x7f.0.0.1") == .v4(0x7f00_0001))
        #expect(IPAddress(parsing: "10.258") == .v4(0x0a00_0102))
        #expect(IPAddress(parsing: "256.0.0.1") == nil)
        #expect(IPAddress(parsing: "1.2.3.4.5") == nil)
        #expect(IPAddress(parsing: "08.0.0.1") == nil, "8 is not an octal digit")
        #expect(IPAddress(parsing: "example.com") == nil)
        #expect(IPAddress(parsing: "[fe80::1%25eth0]") == .v6(0xfe80_0000_0000_0000_0000_0000_0000_0001))
        #expect(IPAddress(parsing: "1::2::3") == nil)
        #expect(IPAddress(parsing: "::ffff:1.2.3.4")?.embeddedIPv4 == 0x0102_0304)
        #expect(IPAddress(parsing: "2001:db8::1")?.description == "2001:db8:0:0:0:0:0:1")
    }
}
