import Foundation
import Logging

/// schemathesis (PyPI), the property-based tester that reads `openapi/openapi.yaml` and checks a live server
/// against it. Installed on first use into a virtualenv under `.build/` (pinned: a new release's new checks should
/// arrive by a commit, not by a CI run), with Debian's `python3-venv` added when the machine's Python lacks `venv`
/// and the tests run as root, the way PostgreSQL and Chromium are.
public enum Schemathesis {
    public static let version = "4.32.5"
    public static let packageRoot = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    private static let installation = PipTool(
        requirement: "schemathesis==\(version)",
        directory: "schemathesis-\(version)",
        executable: "st",
        check: ["--version"],
        purpose: "The conformance test"
    )

    /// The `st` executable, installed when missing.
    public static func executable(logger: Logger) async throws -> String {
        try await installation.ensure(logger: logger)
    }
}
