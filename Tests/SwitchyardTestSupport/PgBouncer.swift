import Foundation
import Logging
import SwitchyardCore

/// A real PgBouncer in transaction pooling mode in front of the test cluster, on a free loopback port: Debian's
/// `pgbouncer` (1.18 on bookworm, which passes no named prepared statements in that mode), installed on first use
/// when missing, as root on a Debian-like machine, the way promtool is (`.ci/run` installs it up front).
///
/// Clients log in with their own role and password (SCRAM, from an auth file written here), and PgBouncer logs in to
/// the cluster with the same. Its pools are small, so that the clients' transactions really share server
/// connections. `show(_:)` asks its admin console (`SHOW POOLS`, `SHOW STATS`), through `psql`: the console speaks
/// only the simple query protocol, which postgres-nio does not. Stopped by `stop()` or deinit.
public final class PgBouncer: Sendable {
    private static let installation = PreparedOnce<String>()
    static let adminUser = "pgbouncer_admin"

    public let port: Int
    let process: Process
    let directory: URL
    let adminPassword: String

    private init(port: Int, process: Process, directory: URL, adminPassword: String) {
        self.port = port
        self.process = process
        self.directory = directory
        self.adminPassword = adminPassword
    }

    /// Starts PgBouncer in front of the server `server` names, for the login roles of `logins` (their passwords go in
    /// its auth file), and waits until it accepts connections.
    public static func start(inFrontOf server: DatabaseURL, logins: [DatabaseURL], logger: Logger) async throws -> PgBouncer {
        let executable = try await executable(logger: logger)
        let port = try ChildProcess.freePort()
        let directory = URL(filePath: NSTemporaryDirectory()).appending(path: "switchyard-pgbouncer-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let adminPassword = UUID().uuidString
        var users = [(adminUser, adminPassword)]
        for login in logins where !users.contains(where: { $0.0 == login.username }) {
            users.append((login.username, login.password ?? ""))
        }
        try users.map { "\"\($0.0)\" \"\($0.1)\"" }.joined(separator: "\n").write(
            to: directory.appending(path: "userlist.txt"),
            atomically: true,
            encoding: .utf8
        )
        // `user`: PgBouncer refuses to run as root, and changes to this user after start-up when started as root.
        let runAs = geteuid() == 0 ? "user = postgres\n" : ""
        let configuration = """
            [databases]
            * = host=\(server.host) port=\(server.port)

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = \(port)
            unix_socket_dir =
            pool_mode = transaction
            auth_type = scram-sha-256
            auth_file = \(directory.appending(path: "userlist.txt").path)
            admin_users = \(adminUser)
            default_pool_size = 4
            max_client_conn = 200
            stats_period = 1
            logfile = \(directory.appending(path: "pgbouncer.log").path)
            \(runAs)
            """
        try configuration.write(to: directory.appending(path: "pgbouncer.ini"), atomically: true, encoding: .utf8)
        if geteuid() == 0 {
            for path in [directory.path]
                + (try FileManager.default.contentsOfDirectory(atPath: directory.path)).map({ directory.appending(path: $0).path })
            {
                try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: path)
            }
        }
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = [directory.appending(path: "pgbouncer.ini").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let bouncer = PgBouncer(port: port, process: process, directory: directory, adminPassword: adminPassword)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw TestFailure("pgbouncer exited at start:\n\(bouncer.log)") }
            if (try? await bouncer.show("VERSION")) != nil {
                logger.info("pgbouncer is up", metadata: ["port": "\(port)"])
                return bouncer
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("pgbouncer did not answer on port \(port) within 30 s:\n\(bouncer.log)")
    }

    /// `url` with PgBouncer's address instead of the server's: the same role, password and database.
    public func url(for url: DatabaseURL) -> DatabaseURL {
        var through = url
        through.host = "127.0.0.1"
        through.port = port
        through.tlsMode = .disable
        return through
    }

    /// The rows of an admin console command (`POOLS`, `STATS`, ...), each a dictionary by column name.
    public func show(_ what: String) async throws -> [[String: String]] {
        let (status, output) = try await ChildProcess.run(
            [try Self.psql(), "-X", "-A", "-F", "\t", "-P", "footer=off", "-c", "SHOW \(what)"],
            environment: [
                "PGHOST": "127.0.0.1", "PGPORT": String(port), "PGUSER": Self.adminUser, "PGPASSWORD": adminPassword,
                "PGDATABASE": "pgbouncer", "PGCONNECT_TIMEOUT": "2",
            ]
        )
        guard status == 0 else { throw TestFailure("psql SHOW \(what) on pgbouncer's console failed:\n\(output)") }
        let lines = output.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(zip(header, $0), uniquingKeysWith: { first, _ in first }) }
    }

    /// The server log of this PgBouncer, for failure messages.
    public var log: String { (try? String(contentsOf: directory.appending(path: "pgbouncer.log"), encoding: .utf8)) ?? "" }

    /// Ends PgBouncer with SIGKILL: a process spawned from a test's thread inherits that thread's blocked signals.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// pgbouncer on `PATH` or at Debian's `/usr/sbin/pgbouncer`, installed first when it is missing and can be.
    static func executable(logger: Logger) async throws -> String {
        try await installation.value {
            if let found = find("pgbouncer", also: ["/usr/sbin"]) { return found }
            if DebianPackages.canInstall {
                try await DebianPackages.install(["pgbouncer"], logger: logger)
                if let found = find("pgbouncer", also: ["/usr/sbin"]) { return found }
            }
            throw TestFailure(
                "pgbouncer is not installed (looked on PATH and in /usr/sbin): `apt-get install -y pgbouncer` provides it, as .ci/run does"
            )
        }
    }

    /// psql of the installed PostgreSQL (the test cluster's binaries come with it), or on `PATH`.
    static func psql() throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let installed = versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        guard let found = find("psql", also: installed) else { throw TestFailure("psql is not installed (Debian's postgresql-client provides it)") }
        return found
    }

    private static func find(_ name: String, also directories: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + directories {
            let candidate = URL(filePath: directory).appending(path: name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
