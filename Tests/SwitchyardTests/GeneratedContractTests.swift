import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardTestSupport
import Testing

/// The code generated from `openapi/openapi.yaml` is committed (building the generator on every clean build costs
/// minutes), so this fails when the document, a generator configuration or a generated file changed without
/// `scripts/generate-openapi` being run again: each `Generated/STAMP` lists the SHA-256 of all of them.
@Suite("generated API code is current with openapi/openapi.yaml")
struct GeneratedContractTests {
    static let root = Schemathesis.packageRoot

    @Test("each STAMP matches its inputs and outputs", arguments: ["Sources/SwitchyardAPIContract", "Tests/SwitchyardAPIClient"])
    func stampMatches(target: String) throws {
        let stamp = try String(contentsOf: Self.root.appending(path: "\(target)/Generated/STAMP"), encoding: .utf8)
        var recorded: [String: String] = [:]
        for line in stamp.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(parts.count == 2, "malformed STAMP line: \(line)")
            recorded[parts[1]] = parts[0]
        }
        #expect(recorded["openapi/openapi.yaml"] != nil && recorded["\(target)/openapi-generator-config.yaml"] != nil)

        let generated = try FileManager.default.contentsOfDirectory(atPath: Self.root.appending(path: "\(target)/Generated").path)
            .filter { $0.hasSuffix(".swift") }.map { "\(target)/Generated/\($0)" }
        let stamped = recorded.keys.filter { $0.hasSuffix(".swift") }
        #expect(Set(generated) == Set(stamped), "generated files and STAMP differ: run scripts/generate-openapi")

        for (path, digest) in recorded {
            let data = try Data(contentsOf: Self.root.appending(path: path))
            let actual = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            #expect(actual == digest, "\(path) changed since the code was generated: run scripts/generate-openapi")
        }
    }
}

/// The generated client is what makes the API tests check shapes: it refuses a response that its schema does not
/// describe. Served here by a router that answers `GET /v1/tenants/{id}` wrongly on purpose.
@Suite("the generated client refuses responses that do not match the document")
struct GeneratedClientStrictnessTests {
    static let valid =
        #"{"id":"t1","slug":"acme","name":"Acme","created_at":"2026-12-05T00:00:00Z","updated_at":"2026-12-05T00:00:00Z","connect_return_origins":[]}"#

    static func answer(_ body: String) async throws -> Operations.GetTenant.Output {
        let router = Router()
        router.get("/v1/tenants/{id}") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json", .init("X-Request-Id")!: "r1"],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        return try await Application(router: router).test(.router) { client in
            try await client.api().getTenant(path: .init(tenantId: "t1"))
        }
    }

    @Test("a response as documented decodes")
    func documented() async throws {
        #expect(try await Self.answer(Self.valid).ok.body.json.slug == "acme")
    }

    @Test(
        "a missing required field, an unknown field and a wrong type each fail the call",
        arguments: [
            Self.valid.replacingOccurrences(of: #""slug":"acme","#, with: ""),
            Self.valid.replacingOccurrences(of: #""name":"Acme","#, with: #""name":"Acme","plan":"gold","#),
            Self.valid.replacingOccurrences(of: #""connect_return_origins":[]"#, with: #""connect_return_origins":"none""#),
        ]
    )
    func mismatch(body: String) async throws {
        await #expect(throws: (any Error).self) { _ = try await Self.answer(body).ok.body.json }
    }
}
