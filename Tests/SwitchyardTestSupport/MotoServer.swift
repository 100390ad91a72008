import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardVault

/// moto's server mode (PyPI `moto[server]`), a local implementation of AWS APIs that serves the KMS JSON API over
/// plain HTTP: the tests' real KMS API. Installed on first use into a virtualenv under `.build/` (`PipTool`; `.ci/run`
/// installs the same version first); each `start()` runs its own `moto_server` on a free loopback port, stopped by
/// `stop()` or deinit.
///
/// moto keeps its keys in memory, so an outage is made by freezing the process (`pause()`, SIGSTOP: connections hang
/// until the client's deadline, as with an unreachable KMS) and ended by `resume()`, which keeps the keys.
public final class MotoServer: Sendable {
    public static let version = "5.2.1"
    private static let installation = PipTool(
        requirement: "moto[server]==\(version)",
        directory: "moto-\(version)",
        executable: "moto_server",
        check: ["--help"],
        purpose: "The AWS KMS tests"
    )
    /// The credentials the tests sign with; moto accepts any.
    public static let credentials = AWSCredentials(accessKeyID: "AKIASWITCHYARDTEST", secretAccessKey: "moto-secret-not-real")
    public static let region = "us-east-1"

    public let port: Int
    let process: Process
    let log: URL

    public var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    private init(port: Int, process: Process, log: URL) {
        self.port = port
        self.process = process
        self.log = log
    }

    /// Installs moto when missing, starts `moto_server` on a free loopback port and waits until it answers. A port
    /// taken between the pick and moto's bind (another test's server) makes moto exit: the start is retried on another.
    public static func start(logger: Logger) async throws -> MotoServer {
        let executable = try await installation.ensure(logger: logger)
        var failures: [String] = []
        for _ in 0..<3 {
            let server = try launch(executable: executable)
            if try await server.becomesReady(within: .seconds(60)) { return server }
            failures.append(server.output)
            server.stop()
        }
        throw TestFailure("moto_server did not start:\n\(failures.joined(separator: "\n---\n"))")
    }

    private static func launch(executable: String) throws -> MotoServer {
        let port = try ChildProcess.freePort()
        let log = URL(filePath: NSTemporaryDirectory()).appending(path: "switchyard-moto-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return MotoServer(port: port, process: process, log: log)
    }

    /// Whether this process answers a KMS call (not merely anything on its port: a 404 from another test's server
    /// on a port moto failed to bind is not moto) before `timeout`; false when it exits first.
    private func becomesReady(within timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else { return false }
            if let keys = try? await call("ListKeys", "{}", timeout: .seconds(2)), String(decoding: keys, as: UTF8.self).contains("\"Keys\"") {
                return true
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// Settings for a provider on this server's KMS with `keyID` (a key id, ARN or alias).
    public func settings(keyID: String) -> AWSKMSSettings {
        AWSKMSSettings(keyID: keyID, region: Self.region, endpoint: endpoint, credentials: Self.credentials)
    }

    /// The environment variables that point a `switchyard` child process at this server's key `keyID`.
    public func variables(keyID: String, provider: KeyProviderKind) -> [String: String] {
        [
            "SWITCHYARD_KEY_PROVIDER": provider.rawValue, "SWITCHYARD_AWS_KMS_KEY_ID": keyID, "SWITCHYARD_AWS_KMS_REGION": Self.region,
            "SWITCHYARD_AWS_KMS_ENDPOINT": endpoint.absoluteString, "AWS_ACCESS_KEY_ID": Self.credentials.accessKeyID,
            "AWS_SECRET_ACCESS_KEY": Self.credentials.secretAccessKey,
        ]
    }

    /// Creates a symmetric encryption key with the alias `alias/<alias>`; returns its ARN.
    public func createKey(alias: String) async throws -> String {
        struct Created: Decodable {
            struct Metadata: Decodable { let Arn: String }
            let KeyMetadata: Metadata
        }
        let created = try JSONDecoder().decode(
            Created.self,
            from: try await call("CreateKey", #"{"KeySpec":"SYMMETRIC_DEFAULT","KeyUsage":"ENCRYPT_DECRYPT","Description":"switchyard tests"}"#)
        )
        _ = try await call("CreateAlias", #"{"AliasName":"alias/\#(alias)","TargetKeyId":"\#(created.KeyMetadata.Arn)"}"#)
        return created.KeyMetadata.Arn
    }

    /// One signed call of the KMS JSON API; the answer's body, or a failure with moto's answer.
    public func call(_ operation: String, _ json: String, timeout: TimeAmount = .seconds(10)) async throws -> Data {
        let signer = SigV4Signer(credentials: Self.credentials, region: Self.region, service: "kms")
        let headers = [
            ("host", "127.0.0.1:\(port)"), ("content-type", "application/x-amz-json-1.1"), ("x-amz-target", "TrentService.\(operation)"),
        ]
        var request = HTTPClientRequest(url: endpoint.absoluteString + "/")
        request.method = .POST
        for (name, value) in headers + signer.sign(method: "POST", path: "/", headers: headers, body: Array(json.utf8), date: Date()) {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let body = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        guard response.status == .ok else { throw TestFailure("moto \(operation): \(response.status): \(String(decoding: body, as: UTF8.self))") }
        return body
    }

    /// Freezes the server: calls hang until their deadline, as when KMS cannot be reached.
    public func pause() { kill(process.processIdentifier, SIGSTOP) }

    /// Ends `pause()`: the server answers again, its keys intact.
    public func resume() { kill(process.processIdentifier, SIGCONT) }

    /// Ends the server with SIGKILL: a process spawned from a test's thread inherits that thread's blocked signals,
    /// SIGTERM among them, and moto keeps nothing worth a graceful stop.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: log)
    }
}
