import Foundation
import Logging

/// Debian packages the tests install on first use when they run as root on a Debian-like machine (`.ci/run`
/// installs them up front): Chromium, Selenium, promtool, python3-venv.
///
/// Suites run in parallel and several may find something missing at once, while apt-get takes a lock and a second
/// apt-get fails at once instead of waiting. So this process's installs run one after another, and an apt-get
/// that meets another process's lock waits for it (`DPkg::Lock::Timeout`, and a retry while `apt-get update`
/// finds the package lists locked).
public enum DebianPackages {
    private static let queue = InstallQueue()

    /// Whether missing packages can be installed here: as root, with apt-get.
    public static var canInstall: Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get")
    }

    /// Installs `packages` (without their recommended packages), after any install already under way in this process.
    public static func install(_ packages: [String], logger: Logger) async throws {
        try await queue.enqueue { try await run(packages, logger: logger) }
    }

    private static func run(_ packages: [String], logger: Logger) async throws {
        logger.notice("installing Debian packages for the tests", metadata: ["packages": "\(packages.joined(separator: ","))"])
        let lockWait = ["-o", "DPkg::Lock::Timeout=600"]
        for command in [
            ["/usr/bin/apt-get", "update", "-q"] + lockWait,
            ["/usr/bin/apt-get", "install", "-y", "-q", "--no-install-recommends"] + lockWait + packages,
        ] {
            var (status, output) = try await ChildProcess.run(command, environment: ["DEBIAN_FRONTEND": "noninteractive"])
            // Older apt waits only for dpkg's lock: `update` still fails at once on the lists' lock.
            var waited = 0
            while status != 0, output.contains("Could not get lock"), waited < 600 {
                try await Task.sleep(for: .seconds(2))
                waited += 2
                (status, output) = try await ChildProcess.run(command, environment: ["DEBIAN_FRONTEND": "noninteractive"])
            }
            guard status == 0 else { throw TestFailure("\(command.joined(separator: " ")) failed:\n\(output)") }
        }
    }

    /// Runs the work it is given one at a time, in the order given (an actor alone would interleave them at each
    /// `await`).
    private actor InstallQueue {
        private var last: Task<Void, Never>?

        func enqueue(_ work: @escaping @Sendable () async throws -> Void) async throws {
            let previous = last
            let task = Task { () async throws in
                await previous?.value
                try await work()
            }
            last = Task { _ = try? await task.value }
            try await task.value
        }
    }
}

/// A value prepared once, however many callers ask for it at the same time: the first caller's preparation is
/// shared by the others (an actor's `if let cached` check alone lets every caller that arrives during the first
/// preparation's `await`s start its own). A failed preparation is forgotten, so a later caller tries again.
actor PreparedOnce<Value: Sendable> {
    private var preparation: Task<Value, any Error>?

    func value(_ prepare: @escaping @Sendable () async throws -> Value) async throws -> Value {
        if let preparation { return try await preparation.value }
        let task = Task { try await prepare() }
        preparation = task
        do {
            return try await task.value
        } catch {
            preparation = nil
            throw error
        }
    }
}
