import Foundation
import Logging

/// schemathesis (PyPI), the property-based tester that reads `openapi/openapi.yaml` and checks a live server
/// against it. Installed on first use into a virtualenv under `.build/` (pinned: a new release's new checks should
/// arrive by a commit, not by a CI run), with Debian's `python3-venv` added when the machine's Python lacks `venv`
/// and the tests run as root, the way PostgreSQL and Chromium are.
public enum Schemathesis {
    public static let version = "4.32.5"
    public static let packageRoot = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let environment = packageRoot.appending(path: ".build/schemathesis-\(version)")
    private static let installation = InstallOnce()

    /// The `st` executable, installed when missing.
    public static func executable(logger: Logger) async throws -> String {
        try await installation.ensure(logger: logger)
    }

    private actor InstallOnce {
        private var executable: String?

        func ensure(logger: Logger) async throws -> String {
            if let executable { return executable }
            let st = Schemathesis.environment.appending(path: "bin/st").path
            if !FileManager.default.isExecutableFile(atPath: st) {
                try await install(logger: logger)
                let (status, output) = try await ChildProcess.run([st, "--version"])
                guard status == 0 else { throw TestFailure("schemathesis was installed but does not run:\n\(output)") }
            }
            executable = st
            return st
        }

        private func install(logger: Logger) async throws {
            logger.notice("installing schemathesis \(Schemathesis.version) from PyPI", metadata: ["into": "\(Schemathesis.environment.path)"])
            try? FileManager.default.removeItem(at: Schemathesis.environment)
            let target = Schemathesis.environment.path
            try await PythonEnvironment.make(at: target, purpose: "The conformance test")
            let (status, output) = try await ChildProcess.run(["\(target)/bin/pip", "install", "-q", "schemathesis==\(Schemathesis.version)"])
            guard status == 0 else { throw TestFailure("pip install schemathesis==\(Schemathesis.version) failed:\n\(output)") }
        }
    }
}

/// Virtualenvs for the Python tools the tests install from PyPI (schemathesis, moto): never the system's own
/// site-packages, which Debian's Python refuses pip for (PEP 668).
enum PythonEnvironment {
    /// Makes a virtualenv at `target`, adding Debian's `python3-venv` first when no Python has `venv` and the tests
    /// run as root.
    static func make(at target: String, purpose: String) async throws {
        for python in HeadlessBrowser.pythons where FileManager.default.isExecutableFile(atPath: python[0]) {
            if try await ChildProcess.run(python + ["-m", "venv", target]).status == 0 { return }
        }
        if geteuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get") {
            for command in [["/usr/bin/apt-get", "update", "-q"], ["/usr/bin/apt-get", "install", "-y", "-q", "python3-venv"]] {
                let (status, output) = try await ChildProcess.run(command, environment: ["DEBIAN_FRONTEND": "noninteractive"])
                guard status == 0 else { throw TestFailure("\(command.joined(separator: " ")) failed:\n\(output)") }
            }
            if try await ChildProcess.run(["/usr/bin/python3", "-m", "venv", target]).status == 0 { return }
        }
        throw TestFailure("\(purpose) needs Python 3 with venv: apt-get install -y python3-venv")
    }
}
