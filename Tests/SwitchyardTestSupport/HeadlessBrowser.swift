import Foundation
import Logging
import Synchronization

/// Headless Chromium driven by Selenium (Python), for tests that complete a flow the way a person would.
///
/// Needs Debian's `chromium` and `chromium-driver` and Selenium for a Python 3. Like the PostgreSQL server, they
/// are installed on first use when missing and the tests run as root on a Debian-like machine (`.ci/run` installs
/// them up front): Selenium with pip when the `python3` on the PATH takes packages, else Debian's `python3-selenium`
/// for the system Python (Debian's own Python refuses pip installs, PEP 668). Otherwise the test fails saying what
/// to install.
public enum HeadlessBrowser {
    private static let installation = PreparedOnce<[String]>()
    /// The Pythons tried, in order: the PATH's (a virtualenv or pyenv), then the system's.
    static let pythons = [["/usr/bin/env", "python3"], ["/usr/bin/python3"]]

    /// Runs `Tests/Browser/<script>` with `arguments`; returns its output, or throws with it when it fails.
    public static func run(script: String, arguments: [String], logger: Logger) async throws -> String {
        let python = try await installation.value { try await prepare(logger: logger) }
        let path = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appending(path: "Browser/\(script)").path
        let (status, output) = try await ChildProcess.run(python + [path] + arguments)
        guard status == 0 else { throw TestFailure("\(script) exited with \(status):\n\(output)") }
        return output
    }

    /// Starts `Tests/Browser/<script>` beside the test, for a test that waits for the script to reach a step: the test
    /// can tell meanwhile whether the script already ended, and why, instead of waiting out its deadline.
    public static func start(script: String, arguments: [String], logger: Logger) -> BrowserScript {
        BrowserScript { try await run(script: script, arguments: arguments, logger: logger) }
    }

    /// The first Python that can import Selenium.
    static func pythonWithSelenium() async -> [String]? {
        for python in pythons where FileManager.default.isExecutableFile(atPath: python[0]) {
            if (try? await ChildProcess.run(python + ["-c", "import selenium"]).status) == 0 { return python }
        }
        return nil
    }

    static func missingDebianPackages() -> [String] {
        var missing: [String] = []
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") { missing.append("chromium") }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") { missing.append("chromium-driver") }
        return missing
    }

    /// Chromium, its driver and Selenium, installed when missing (see the type's comment).
    private static func prepare(logger: Logger) async throws -> [String] {
        var debian = missingDebianPackages()
        var found = await pythonWithSelenium()
        if found == nil, DebianPackages.canInstall {
            // pip first (a PATH Python of the user's own), Debian's package when pip is absent or refused.
            let pip = try? await ChildProcess.run(["/usr/bin/env", "python3", "-m", "pip", "install", "-q", "selenium"])
            if pip?.status == 0 { found = await pythonWithSelenium() }
            if found == nil { debian.append("python3-selenium") }
        }
        if !debian.isEmpty {
            guard DebianPackages.canInstall else {
                throw TestFailure(
                    "The browser test needs \(debian.joined(separator: ", ")): apt-get install -y chromium chromium-driver python3-selenium"
                )
            }
            try await DebianPackages.install(debian, logger: logger)
            if found == nil { found = await pythonWithSelenium() }
        }
        guard let found else {
            throw TestFailure("The browser test needs Selenium for Python 3: pip install selenium, or apt-get install -y python3-selenium")
        }
        return found
    }
}

/// A child process whose exit is awaited without blocking a thread of the concurrency pool.
public enum ChildProcess {
    public static func run(_ argv: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let outputURL = FileManager.default.temporaryDirectory.appending(path: "switchyard-child-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let output = try FileHandle(forWritingTo: outputURL)
        let process = Process()
        process.executableURL = URL(filePath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try output.close()
        return (status, (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "")
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago, for servers whose URL must be known before they start.
    /// It is picked below Linux's ephemeral range (32768-60999): a server bound to port 0, or an outbound
    /// connection's source port, cannot take it between the pick and the child's bind, as a kernel-chosen one could.
    public static func freePort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_768)
            if try canBind(port: port) { return port }
        }
        throw TestFailure("no free port below the ephemeral range")
    }

    private static func canBind(port: Int) throws -> Bool {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestFailure("socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// A browser script running beside its test (`HeadlessBrowser.start`).
public final class BrowserScript: Sendable {
    /// How the script ended (its status and output, or why it could not run); `nil` while it runs.
    private final class Ending: Sendable {
        let description = Mutex<String?>(nil)
    }

    private let task: Task<String, any Error>
    private let ending = Ending()

    init(_ body: @escaping @Sendable () async throws -> String) {
        let ending = self.ending
        task = Task {
            do {
                let output = try await body()
                ending.description.withLock { $0 = "it exited with 0:\n\(output)" }
                return output
            } catch {
                ending.description.withLock { $0 = "\(error)" }
                throw error
            }
        }
    }

    /// How the script ended (its status and output, or why it could not run); `nil` while it runs.
    public var ended: String? { ending.description.withLock { $0 } }

    /// The script's output once it exits with 0; throws with its output otherwise.
    public func output() async throws -> String { try await task.value }

    deinit { task.cancel() }
}
