import Foundation
import Logging

/// A Python tool from PyPI at a pinned version (a new release's new behaviour should arrive by a commit, not by a CI
/// run), installed on first use into a virtualenv of its own under `.build/`: never into the system's site-packages,
/// which Debian's Python refuses pip for (PEP 668). Debian's `python3-venv` is added when no Python has `venv` and
/// the tests run as root, the way PostgreSQL and Chromium are.
actor PipTool {
    let requirement: String
    let environment: URL
    let executableName: String
    let check: [String]
    let purpose: String
    private let prepared = PreparedOnce<String>()

    /// `requirement` as pip takes it (`moto[server]==5.2.1`), `directory` under `.build/`, `executable` in its
    /// `bin/`, run once with `check` after installing to prove it works; `purpose` names the tests needing it.
    init(requirement: String, directory: String, executable: String, check: [String], purpose: String) {
        self.requirement = requirement
        self.environment = Schemathesis.packageRoot.appending(path: ".build/\(directory)")
        self.executableName = executable
        self.check = check
        self.purpose = purpose
    }

    /// The executable's path, installing the tool first when it is missing; concurrent callers share one install.
    func ensure(logger: Logger) async throws -> String {
        try await prepared.value { [self] in try await prepare(logger: logger) }
    }

    private func prepare(logger: Logger) async throws -> String {
        let path = environment.appending(path: "bin/\(executableName)").path
        if !FileManager.default.isExecutableFile(atPath: path) {
            try await install(logger: logger)
            let (status, output) = try await ChildProcess.run([path] + check)
            guard status == 0 else { throw TestFailure("\(requirement) was installed but \(executableName) does not run:\n\(output)") }
        }
        return path
    }

    private func install(logger: Logger) async throws {
        logger.notice("installing \(requirement) from PyPI", metadata: ["into": "\(environment.path)"])
        try? FileManager.default.removeItem(at: environment)
        let target = environment.path
        try await makeVirtualenv(at: target, logger: logger)
        let (status, output) = try await ChildProcess.run(["\(target)/bin/pip", "install", "-q", requirement])
        guard status == 0 else { throw TestFailure("pip install \(requirement) failed:\n\(output)") }
    }

    private func makeVirtualenv(at target: String, logger: Logger) async throws {
        for python in HeadlessBrowser.pythons where FileManager.default.isExecutableFile(atPath: python[0]) {
            if try await ChildProcess.run(python + ["-m", "venv", target]).status == 0 { return }
        }
        if DebianPackages.canInstall {
            try await DebianPackages.install(["python3-venv"], logger: logger)
            if try await ChildProcess.run(["/usr/bin/python3", "-m", "venv", target]).status == 0 { return }
        }
        throw TestFailure("\(purpose) needs Python 3 with venv: apt-get install -y python3-venv")
    }
}
