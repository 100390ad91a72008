import HTTPTypes
import Logging
import SwitchyardOutbound
import SwitchyardTestSupport
import Synchronization
import Testing

@Suite("Outbound logging")
struct OutboundLoggingTests {
    static let secrets = [
        "sk_live_AUTHORIZATION_7f3a", "APIKEY_91b2c", "COOKIE_SESSION_55d1", "PROXYAUTH_e0e0", "QUERYTOKEN_a1b2c3",
        "CLIENTSECRET_d4e5", "OAUTHCODE_f6a7", "SIGNATURE_0b1c", "BODYPASSWORD_8899", "PATHTOKEN1234567890abcdef",
    ]

    @Test("log lines name method, host, path, status and attempt, but never secret headers, secret query values or bodies")
    func redaction() async throws {
        let capture = LogCapture()
        try await FakeProviderAPI.withRunning { api in
            api.script("/hooks/\(Self.secrets[9])/send", [.status(503)], then: .status(200))
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(Self.secrets[0])"
            headers[HTTPField.Name("X-Api-Key")!] = Self.secrets[1]
            headers[.cookie] = "session=\(Self.secrets[2])"
            headers[.proxyAuthorization] = "Basic \(Self.secrets[3])"
            let query =
                "?access_token=\(Self.secrets[4])&client_secret=\(Self.secrets[5])&code=\(Self.secrets[6])&X-Amz-Signature=\(Self.secrets[7])&page=2"
            try await api.withClient(OutboundConfiguration(breakerFailureThreshold: 100)) { client in
                let request = OutboundRequest(
                    method: .post,
                    url: api.baseURL + "/hooks/\(Self.secrets[9])/send" + query,
                    headers: headers,
                    body: .init(string: "password=\(Self.secrets[8])"),
                    provider: "fake",
                    key: "integration-1",
                    retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), retryNonIdempotent: true)
                )
                let response = try await client.send(request, logger: capture.logger())
                #expect(response.status == .ok)
                // Failures log too: a blocked destination and a refused connection, both with secrets in the URL.
                _ = try? await client.send(
                    OutboundRequest(
                        method: .get,
                        url: "https://169.254.169.254/latest?token=\(Self.secrets[4])",
                        headers: headers,
                        provider: "fake",
                        key: "k"
                    ),
                    logger: capture.logger()
                )
                _ = try? await client.send(
                    OutboundRequest(
                        method: .get,
                        url: "http://127.0.0.1:\(api.port)/slow?api_key=\(Self.secrets[1])",
                        headers: headers,
                        provider: "fake",
                        key: "k"
                    ),
                    logger: capture.logger()
                )
            }
            // The provider did receive the credentials: they were sent, only not logged.
            let received = api.requests().first
            #expect(received?.headers[.authorization] == "Bearer \(Self.secrets[0])")
        }

        let lines = capture.lines
        #expect(lines.count >= 4, "\(lines)")
        #expect(lines.contains { $0.contains("outbound_host=127.0.0.1") && $0.contains("outbound_method=POST") })
        #expect(lines.contains { $0.contains("status=503") && $0.contains("outbound_attempt=1") })
        #expect(lines.contains { $0.contains("outbound_path=/hooks/{id}/send") })
        #expect(lines.contains { $0.contains("page=2") && $0.contains("access_token=REDACTED") })
        #expect(lines.contains { $0.contains("blocked") })
        for secret in Self.secrets {
            #expect(!lines.contains { $0.contains(secret) }, "\(secret) was logged")
        }
    }
}
