import Foundation
import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardPostgres

#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL server started from the installed binaries, for `switchyard dev`,
/// the test suites and the benchmarks: loopback only, a free port, its socket inside its data
/// directory, and run as the unprivileged `postgres` user when we are root (initdb refuses root).
public final class LocalPostgresCluster: Sendable {
    public struct Options: Sendable {
        /// Holds `pgdata/`, the server log and the generated passwords.
        public var directory: URL
        /// `false` turns fsync off: for throwaway test clusters only, never for benchmarks of durability.
        public var durable: Bool
        /// The port to listen on; `nil` picks a free one. A restart on the same port looks, to clients, like a
        /// database server that went away and came back.
        public var port: Int?
        /// The cluster's superuser, made by `initdb`; `switchyard_owner` for `dev` and the tests. A test of the
        /// README's role recipe picks another name, since the recipe creates `switchyard_owner` itself.
        public var superuser: String
        /// The server's `max_connections`: room for `dev`'s processes and a benchmark's clients by default; the test
        /// suite, whose tests run side by side with pools of their own, asks for more.
        public var maxConnections: Int

        public init(
            directory: URL,
            durable: Bool,
            port: Int? = nil,
            superuser: String = LocalPostgresCluster.ownerRole,
            maxConnections: Int = 600
        ) {
            self.directory = directory
            self.durable = durable
            self.port = port
            self.superuser = superuser
            self.maxConnections = maxConnections
        }
    }

    public static let ownerRole = "switchyard_owner"
    public static let applicationLoginRole = "switchyard_api"

    public let port: Int
    let durable: Bool
    let superuser: String
    let directory: URL
    let binaries: URL
    let runAs: String?
    let ownerPassword: String
    let applicationPassword: String

    private var dataDirectory: URL { directory.appending(path: "pgdata") }

    /// The owner (superuser of this private cluster) on the `postgres` database.
    public var ownerURL: DatabaseURL {
        DatabaseURL(host: "127.0.0.1", port: port, username: superuser, password: ownerPassword, database: "postgres", tlsMode: .disable)
    }

    private init(
        port: Int,
        durable: Bool,
        superuser: String,
        directory: URL,
        binaries: URL,
        runAs: String?,
        ownerPassword: String,
        applicationPassword: String
    ) {
        self.port = port
        self.durable = durable
        self.superuser = superuser
        self.directory = directory
        self.binaries = binaries
        self.runAs = runAs
        self.ownerPassword = ownerPassword
        self.applicationPassword = applicationPassword
    }

    /// Initialises the cluster on first use, then starts it on a free port and waits until it accepts connections.
    ///
    /// Every wait for `initdb` and `pg_ctl` (seconds, on a loaded machine) happens on a thread of its own: on one of
    /// the few threads of Swift's cooperative pool it would stall every task of the process, such as the executors
    /// and servers of the tests that share it.
    public static func start(_ options: Options, logger: Logger) async throws -> LocalPostgresCluster {
        try await onThreadOfItsOwn { try startWaiting(options, logger: logger) }
    }

    /// Starts a cluster, runs `body` with it, then stops it (also when `body` throws) and deletes its directory when
    /// `removingFiles`.
    public static func withStarted<Result: Sendable>(
        _ options: Options,
        removingFiles: Bool,
        logger: Logger,
        _ body: (LocalPostgresCluster) async throws -> Result
    ) async throws -> Result {
        let cluster = try await start(options, logger: logger)
        let result: Result
        do {
            result = try await body(cluster)
        } catch {
            await cluster.stop(removingFiles: removingFiles)
            throw error
        }
        await cluster.stop(removingFiles: removingFiles)
        return result
    }

    private static func startWaiting(_ options: Options, logger: Logger) throws -> LocalPostgresCluster {
        let binaries = try findOrInstallBinaries(logger: logger)
        let runAs = try unprivilegedUserIfRoot()
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: options.directory, withIntermediateDirectories: true)
        let dataDirectory = options.directory.appending(path: "pgdata")
        let ownerPassword = try persistentSecret(options.directory.appending(path: "owner-password"))
        let applicationPassword = try persistentSecret(options.directory.appending(path: "application-password"))

        if !fileManager.fileExists(atPath: dataDirectory.appending(path: "PG_VERSION").path) {
            try? fileManager.removeItem(at: dataDirectory)
            try fileManager.createDirectory(at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try handOver(dataDirectory, to: runAs)
            let passwordFile = URL(filePath: NSTemporaryDirectory()).appending(path: "switchyard-pw-\(UUID().uuidString)")
            try Data(ownerPassword.utf8).write(to: passwordFile)
            try handOver(passwordFile, to: runAs)
            defer { try? fileManager.removeItem(at: passwordFile) }
            logger.info("initialising a private PostgreSQL cluster", metadata: ["directory": "\(dataDirectory.path)"])
            try run(
                binaries.appending(path: "initdb"),
                runAs: runAs,
                [
                    "-D", dataDirectory.path, "-U", options.superuser, "--pwfile=\(passwordFile.path)", "-E", "UTF8",
                    "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--no-instructions", "--locale=C",
                ]
            )
        }

        let pgCtl = binaries.appending(path: "pg_ctl")
        // A server left running by a process that was killed: stop it so we own the one that runs.
        if (try? run(pgCtl, runAs: runAs, ["-D", dataDirectory.path, "status"])) != nil {
            _ = try? run(pgCtl, runAs: runAs, ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"])
        }
        let port = try options.port ?? freeLoopbackPort()
        var serverOptions = [
            "-p \(port)", "-c listen_addresses=127.0.0.1", "-c unix_socket_directories='\(dataDirectory.path)'",
            "-c max_connections=\(options.maxConnections)", "-c shared_buffers=128MB",
        ]
        if !options.durable {
            serverOptions += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        }
        try run(
            pgCtl,
            runAs: runAs,
            [
                "-D", dataDirectory.path, "-l", dataDirectory.appending(path: "server.log").path,
                "-w", "-t", "60", "-o", serverOptions.joined(separator: " "), "start",
            ]
        )
        logger.info("private PostgreSQL is up", metadata: ["port": "\(port)"])
        return LocalPostgresCluster(
            port: port,
            durable: options.durable,
            superuser: options.superuser,
            directory: options.directory,
            binaries: binaries,
            runAs: runAs,
            ownerPassword: ownerPassword,
            applicationPassword: applicationPassword
        )
    }

    /// Stops the server (fast shutdown: open sessions are disconnected), then deletes its directory when
    /// `removingFiles`.
    public func stop(removingFiles: Bool = false) async {
        _ = try? await Self.onThreadOfItsOwn { self.stopBeforeExit() }
        if removingFiles { removeFiles() }
    }

    /// `stop()` for an exit handler, where nothing can be awaited: it blocks the calling thread until the server is down.
    public func stopBeforeExit() {
        _ = try? Self.run(binaries.appending(path: "pg_ctl"), runAs: runAs, ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"])
    }

    /// Stops the server the way a crash would (immediate shutdown: no checkpoint, recovery from the WAL at the
    /// next start). For tests of durability.
    public func crash() async {
        _ = try? await Self.onThreadOfItsOwn { [binaries, runAs, dataDirectory] in
            try Self.run(binaries.appending(path: "pg_ctl"), runAs: runAs, ["-D", dataDirectory.path, "-m", "immediate", "-w", "stop"])
        }
    }

    /// Starts the stopped (or crashed) server again on the same port and directory: recovery from the WAL after a
    /// crash. For tests of what clients do when their database goes away and comes back.
    @discardableResult
    public func restart(logger: Logger) async throws -> LocalPostgresCluster {
        try await Self.start(.init(directory: directory, durable: durable, port: port, superuser: superuser), logger: logger)
    }

    /// Deletes the cluster's directory; for throwaway clusters, after `stop()`.
    public func removeFiles() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Creates `database` if it is missing (optionally as a copy of `template`) and the application
    /// login role, a member of `switchyard_app`. Returns the owner's and the application's URLs for it.
    public func provisionDatabase(
        named database: String,
        template: String? = nil,
        logger: Logger
    ) async throws -> (owner: DatabaseURL, application: DatabaseURL) {
        precondition(database.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "database names are plain identifiers")
        let connection = try await PostgresConnection.connect(configuration: try .init(ownerURL), id: 1, logger: logger)
        do {
            let exists =
                try await connection.query("SELECT count(*)::int FROM pg_database WHERE datname = \(database)" as PostgresQuery, logger: logger)
                .decode(Int.self).collect().first ?? 0
            if exists == 0 {
                let templateClause = template.map { " TEMPLATE \($0)" } ?? ""
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(database)\(templateClause)"), logger: logger)
            }
            // DDL takes no bind parameters; the password is our own base62 text, safe to inline.
            try await connection.query(
                PostgresQuery(
                    unsafeSQL:
                        """
                        DO $$
                        BEGIN
                            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'switchyard_app') THEN
                                CREATE ROLE switchyard_app NOLOGIN;
                            END IF;
                            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(Self.applicationLoginRole)') THEN
                                CREATE ROLE \(Self.applicationLoginRole) LOGIN PASSWORD '\(applicationPassword)' IN ROLE switchyard_app;
                            END IF;
                        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                        END
                        $$
                        """
                ),
                logger: logger
            )
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
        let owner = ownerURL.with(database: database)
        var application = owner
        application.username = Self.applicationLoginRole
        application.password = applicationPassword
        return (owner, application)
    }

    // MARK: - Processes

    /// Runs blocking work (a child process waited for) on a new thread, and resumes the caller when it is done.
    static func onThreadOfItsOwn<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    public struct CommandFailure: Error, CustomStringConvertible {
        public let command: String
        public let output: String
        public var description: String { "\(command) failed:\n\(output)" }
    }

    @discardableResult
    static func run(_ executable: URL, runAs: String?, _ arguments: [String]) throws -> String {
        let argv = runAs.map { ["/usr/sbin/runuser", "-u", $0, "--", executable.path] + arguments } ?? [executable.path] + arguments
        // Output goes to a file, not a pipe: the server that `pg_ctl start` leaves running would
        // inherit a pipe's write end and a reader would never see end-of-file.
        let outputPath = NSTemporaryDirectory() + "switchyard-cmd-\(UUID().uuidString)"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of ours reaches the child: `pg_ctl start` leaves a server running that would otherwise keep
        // every socket open at that moment (a test's HTTP connection, a listener) alive for as long as it runs, so a
        // peer never sees the close and waits for good.
        _ = Self.addCloseFrom?(&actions, 3)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else {
            throw CommandFailure(command: executable.lastPathComponent, output: String(cString: strerror(spawned)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED && WEXITSTATUS == 0, spelled out because the C macros are not imported.
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
            throw CommandFailure(command: "\(executable.lastPathComponent) \(arguments.first ?? "")", output: text)
        }
        return text
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc module does not
    /// import; `nil` on an older C library, where children inherit what is open.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// The server binaries; on a Debian-like machine where we are root, a missing server is installed
    /// with apt-get first, so that `switchyard dev` and `swift test` work on a fresh machine.
    static func findOrInstallBinaries(logger: Logger) throws -> URL {
        do {
            return try findBinaries()
        } catch {
            let aptGet = URL(filePath: "/usr/bin/apt-get")
            guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: aptGet.path),
                ProcessInfo.processInfo.environment[SwitchyardSettings.noInstall.environmentKey] == nil
            else { throw error }
            logger.notice(
                "PostgreSQL is not installed; installing the Debian package postgresql with apt-get (set SWITCHYARD_NO_INSTALL=1 to refuse)"
            )
            setenv("DEBIAN_FRONTEND", "noninteractive", 1)
            try run(aptGet, runAs: nil, ["update", "-q"])
            try run(aptGet, runAs: nil, ["install", "-y", "-q", "--no-install-recommends", "postgresql"])
            return try findBinaries()
        }
    }

    /// The newest `/usr/lib/postgresql/N/bin`, or `SWITCHYARD_POSTGRES_BIN`, or `initdb` on the PATH.
    static func findBinaries() throws -> URL {
        let fileManager = FileManager.default
        if let configured = ProcessInfo.processInfo.environment[SwitchyardSettings.postgresBin.environmentKey] {
            return URL(filePath: configured)
        }
        let versions = (try? fileManager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        if let newest = versions.compactMap(Int.init).sorted().last(where: {
            fileManager.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb")
        }) {
            return URL(filePath: "/usr/lib/postgresql/\(newest)/bin")
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if fileManager.isExecutableFile(atPath: "\(directory)/initdb") { return URL(filePath: String(directory)) }
        }
        throw CommandFailure(
            command: "initdb",
            output:
                "PostgreSQL server binaries were not found. Install them with `apt-get install -y postgresql` (Debian/Ubuntu) or set SWITCHYARD_POSTGRES_BIN to the directory holding initdb and pg_ctl."
        )
    }

    /// PostgreSQL refuses to run as root, so root runs it as `postgres` (created by the Debian package).
    static func unprivilegedUserIfRoot() throws -> String? {
        guard geteuid() == 0 else { return nil }
        guard getpwnam("postgres") != nil else {
            throw CommandFailure(
                command: "runuser",
                output:
                    "Running as root needs the unprivileged user 'postgres': install PostgreSQL with `apt-get install -y postgresql`, or run as a normal user."
            )
        }
        return "postgres"
    }

    static func handOver(_ url: URL, to user: String?) throws {
        guard let user, let entry = getpwnam(user) else { return }
        guard chown(url.path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw CommandFailure(command: "chown \(url.path)", output: String(cString: strerror(errno)))
        }
    }

    /// Whether `user` can reach `directory` (every ancestor searchable), checked by asking as that user.
    public static func canReach(_ directory: URL) -> Bool {
        guard let user = try? unprivilegedUserIfRoot() else { return true }
        return (try? run(URL(filePath: "/usr/bin/test"), runAs: user, ["-x", directory.path])) != nil
    }

    /// A random secret kept in `file` (mode 0600) so a persistent cluster keeps its passwords across runs.
    static func persistentSecret(_ file: URL) throws -> String {
        if let existing = try? String(contentsOf: file, encoding: .utf8), !existing.isEmpty {
            return existing.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let secret = String(APIKeySecret.generate().value.dropFirst(APIKeySecret.prefix.count).prefix(32))
        try Data(secret.utf8).write(to: file, options: .atomic)
        chmod(file.path, 0o600)
        return secret
    }

    /// Asks the kernel for a free loopback port. Another process could take it before the server binds;
    /// `pg_ctl start` then fails and says so.
    public static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CommandFailure(command: "socket", output: String(cString: strerror(errno))) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw CommandFailure(command: "bind", output: String(cString: strerror(errno))) }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw CommandFailure(command: "getsockname", output: String(cString: strerror(errno))) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
