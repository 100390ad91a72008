import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchyardCore

/// Calls to the AWS KMS JSON API (`POST /`, `X-Amz-Target: TrentService.<Operation>`,
/// `Content-Type: application/x-amz-json-1.1`), SigV4-signed.
///
/// Connection failures, timeouts, 5xx answers and KMS's own transient errors (throttling, internal, dependency
/// timeout) become `KeyProviderUnavailable` after a second attempt; `InvalidCiphertextException` and
/// `IncorrectKeyException` (a wrong encryption context, another key) become `VaultError.authenticationFailed`;
/// every other refusal is `KeyProviderRefused` with KMS's error code. Request and response bodies, which hold
/// key material, are never put into an error or a log.
struct AWSKMSClient: Sendable {
    static let providerName = "AWS KMS"
    static let transientCodes: Set<String> = [
        "ThrottlingException", "KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException",
        "LimitExceededException", "ServiceUnavailableException", "RequestTimeoutException",
    ]
    static let authenticationCodes: Set<String> = ["InvalidCiphertextException", "IncorrectKeyException"]

    let endpoint: URL
    let signer: SigV4Signer
    let httpClient: HTTPClient
    /// Per attempt; a call makes at most `attempts` of them.
    let timeout: TimeAmount
    let attempts: Int

    init(settings: AWSKMSSettings, httpClient: HTTPClient, timeout: TimeAmount = .seconds(5), attempts: Int = 2) {
        self.endpoint = settings.endpoint
        self.signer = SigV4Signer(credentials: settings.credentials, region: settings.region, service: "kms")
        self.httpClient = httpClient
        self.timeout = timeout
        self.attempts = attempts
    }

    /// `host[:port]` as signed: the port only when it is not the scheme's default.
    var hostHeader: String {
        let host = endpoint.host ?? ""
        let bracketed = host.contains(":") ? "[\(host)]" : host
        guard let port = endpoint.port, port != (endpoint.scheme?.lowercased() == "https" ? 443 : 80) else { return bracketed }
        return "\(bracketed):\(port)"
    }

    func call<Response: Decodable>(_ operation: String, _ request: some Encodable, as: Response.Type) async throws -> Response {
        let body = try JSONEncoder().encode(request)
        var lastFailure: KeyProviderUnavailable?
        for attempt in 0..<attempts {
            if attempt > 0 {
                // Full jitter around 100 ms, 400 ms, ...: a short blip passes, an outage is reported quickly.
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...(100 << (2 * attempt)))))
            }
            do {
                return try await send(operation, body: body, as: Response.self)
            } catch let failure as KeyProviderUnavailable {
                lastFailure = failure
            }
        }
        throw lastFailure ?? KeyProviderUnavailable(provider: Self.providerName, reason: "no attempt made")
    }

    private func send<Response: Decodable>(_ operation: String, body: Data, as: Response.Type) async throws -> Response {
        var request = HTTPClientRequest(url: endpoint.absoluteString.hasSuffix("/") ? endpoint.absoluteString : endpoint.absoluteString + "/")
        request.method = .POST
        let headers = [
            ("host", hostHeader), ("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "TrentService.\(operation)"),
        ]
        let signed = signer.sign(method: "POST", path: "/", headers: headers, body: body, date: Date())
        for (name, value) in headers + signed { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))

        let response: HTTPClientResponse
        let responseBody: ByteBuffer
        do {
            response = try await httpClient.execute(request, timeout: timeout)
            responseBody = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw KeyProviderUnavailable(provider: Self.providerName, reason: "\(operation): \(Self.transportReason(error))")
        }
        if response.status == .ok {
            do {
                return try JSONDecoder().decode(Response.self, from: Data(responseBody.readableBytesView))
            } catch {
                throw KeyProviderRefused(
                    provider: Self.providerName,
                    operation: operation,
                    code: "MalformedResponse",
                    message: "the answer did not decode"
                )
            }
        }
        let problem = try? JSONDecoder().decode(ErrorBody.self, from: Data(responseBody.readableBytesView))
        // `__type` may carry a namespace (`com.amazonaws.kms#NotFoundException`); the header is the fallback.
        let code =
            (problem?.type ?? response.headers.first(name: "x-amzn-ErrorType") ?? "HTTP \(response.status.code)")
            .split(separator: "#").last.map(String.init)?.split(separator: ":").first.map(String.init) ?? "unknown"
        let message = String((problem?.message ?? "").prefix(300))
        if response.status.code >= 500 || Self.transientCodes.contains(code) {
            throw KeyProviderUnavailable(provider: Self.providerName, reason: "\(operation): \(code) (HTTP \(response.status.code))")
        }
        if Self.authenticationCodes.contains(code) { throw VaultError.authenticationFailed }
        throw KeyProviderRefused(provider: Self.providerName, operation: operation, code: code, message: message)
    }

    static func transportReason(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            default: return "\(error)"
            }
        }
        if let error = error as? IOError { return "connection failed (\(error.description))" }
        return String(describing: type(of: error)) + ": " + String(String(describing: error).prefix(200))
    }

    private struct ErrorBody: Decodable {
        let type: String?
        let message: String?

        enum CodingKeys: String, CodingKey {
            case type = "__type"
            case message
            case capitalMessage = "Message"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decodeIfPresent(String.self, forKey: .type)
            message = try container.decodeIfPresent(String.self, forKey: .message) ?? container.decodeIfPresent(String.self, forKey: .capitalMessage)
        }
    }
}

/// The request and response shapes Switchyard uses, as the KMS API reference names their members. Blobs are
/// base64 in JSON, which is how `JSONEncoder` writes `Data`.
enum KMSMessages {
    struct DescribeKeyRequest: Encodable {
        let KeyId: String
    }

    struct DescribeKeyResponse: Decodable {
        struct Metadata: Decodable {
            let Arn: String
            let Enabled: Bool?
            let KeyState: String?
            let KeyUsage: String?
            let KeySpec: String?
        }

        let KeyMetadata: Metadata
    }

    struct GenerateDataKeyRequest: Encodable {
        let KeyId: String
        let KeySpec = "AES_256"
        let EncryptionContext: [String: String]
    }

    struct EncryptRequest: Encodable {
        let KeyId: String
        let Plaintext: Data
        let EncryptionContext: [String: String]
    }

    struct DecryptRequest: Encodable {
        let KeyId: String
        let CiphertextBlob: Data
        let EncryptionContext: [String: String]
    }

    /// What `GenerateDataKey`, `Encrypt` and `Decrypt` answer (each only some of the members).
    struct KeyResponse: Decodable {
        let KeyId: String?
        let CiphertextBlob: Data?
        let Plaintext: Data?
    }
}
