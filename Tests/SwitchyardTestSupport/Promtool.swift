import Foundation
import Logging

/// promtool, from Debian's `prometheus` package: checks and unit-tests the alert rules in `deploy/prometheus` and lints a
/// `/metrics` exposition. Installed on first use when missing, as root on a Debian-like machine, the way Chromium is
/// (`.ci/run` installs it up front); elsewhere a test that needs promtool fails, naming it.
public enum Promtool {
    private static let installation = PreparedOnce<String>()

    /// `deploy/` of this checkout.
    public static let deploy = Schemathesis.packageRoot.appending(path: "deploy")

    /// promtool on `PATH`, else Debian's `/usr/bin/promtool`, installed first when it is missing and can be.
    public static func executable() async throws -> String {
        try await installation.value {
            if let found = find() { return found }
            if DebianPackages.canInstall {
                try await DebianPackages.install(["prometheus"], logger: Logger(label: "switchyard.tests.promtool"))
                if let found = find() { return found }
            }
            throw TestFailure(
                "promtool is not installed (looked on PATH and at /usr/bin/promtool): `apt-get install -y prometheus` provides it, as .ci/run does"
            )
        }
    }

    private static func find() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/usr/bin"] {
            let candidate = URL(filePath: directory).appending(path: "promtool").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs promtool with `arguments`, and `input` as its standard input when given (`check metrics` reads it from there).
    public static func run(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
        let promtool = try await executable()
        guard let input else { return try await ChildProcess.run([promtool] + arguments) }
        let file = FileManager.default.temporaryDirectory.appending(path: "switchyard-promtool-\(UUID().uuidString)")
        try input.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await ChildProcess.run(
            ["/bin/sh", "-c", #"exec "$0" "$@" < "$SWITCHYARD_PROMTOOL_INPUT""#, promtool] + arguments,
            environment: ["SWITCHYARD_PROMTOOL_INPUT": file.path]
        )
    }
}
