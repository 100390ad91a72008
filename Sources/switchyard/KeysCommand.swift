import ArgumentParser
import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard keys ...`: the key-encryption keys and the tenants' data keys (REQUIREMENTS EN-1..EN-5).
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the keyring and the tenants' data keys.",
        subcommands: [Generate.self, Rotate.self, Rewrap.self, Reseal.self, Status.self, Retire.self, Verify.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a new keyring (one random 256-bit key, mode 0600).")

        @Option(help: "The keyring file to create; an existing file is never overwritten.")
        var output: String

        @Option(help: "The keyring's key id, recorded with every data key it wraps.")
        var keyID: String = "local"

        func run() throws {
            do {
                try LocalKeyring.generate(keyID: keyID).write(to: output, replacing: false)
            } catch {
                throw ValidationError("\(error)")
            }
            print(
                "switchyard keys generate: wrote \(output) (key \(keyID), version 1 primary). Keep it secret and backed up: without it no secret can be read."
            )
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new key version to the keyring file and make it primary; older versions keep decrypting.",
            discussion: """
                Running processes read the file again before their next wrap, so every new data key uses the new version. \
                Then run `switchyard keys rewrap` to move the existing keys, and `switchyard keys status` to see when the old version can be retired.
                """
        )

        @Option(help: "The keyring file (default: SWITCHYARD_KEYRING_FILE).")
        var keyring: String?

        func run() throws {
            let path = try keyringFile(keyring)
            do {
                let rotated = try LocalKeyring.load(path: path).rotated()
                try rotated.write(to: path, replacing: true)
                print(
                    "switchyard keys rotate: \(path) now has versions \(rotated.versions.map(\.number).map(String.init).joined(separator: ", ")); primary \(rotated.primary)"
                )
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    struct Rewrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-wrap every data key under the keyring's primary version, online and resumably."
        )

        @Option(help: "Data keys per transaction.")
        var batchSize: Int = 100

        func run() async throws {
            try await withMaintenanceDatabase(label: "switchyard.keys") { database, logger in
                let progress = try await database.rewrapDataKeys(batchSize: batchSize, logger: logger) { done in
                    logger.info("rewrapped \(done) data key(s)")
                }
                print(
                    "switchyard keys rewrap: \(progress.done) data key(s) moved to \(try await database.vault.provider.primaryVersion()); \(progress.remaining) left"
                )
                if progress.remaining > 0 { throw ExitCode.failure }
            }
        }
    }

    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal secrets of retired data keys under their tenant's active key, then delete the retired keys.",
            discussion: "`serve` does this in the background too; this runs one pass now."
        )

        func run() async throws {
            try await withMaintenanceDatabase(label: "switchyard.keys") { database, logger in
                let progress = try await database.resealRetiringDataKeys(logger: logger)
                print("switchyard keys reseal: \(progress.done) secret(s) re-sealed; \(progress.remaining) left")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count the keys each key version wraps, and say which versions are safe to retire.")

        func run() async throws {
            try await withMaintenanceDatabase(label: "switchyard.keys") { database, logger in
                let primary = try await database.vault.provider.primaryVersion()
                let versions = try await database.vault.provider.availableVersions()
                print("keyring: versions \(versions.map(\.description).joined(separator: ", ")); primary \(primary)")
                let counts = try await database.dataKeyCounts(logger: logger)
                if counts.isEmpty { print("no data keys") }
                for count in counts {
                    let note =
                        count.kek == primary ? "" : (versions.contains(count.kek) ? "  (run `switchyard keys rewrap`)" : "  (NOT IN THE KEYRING)")
                    print("\(count.kek)\t\(count.state)\t\(count.count)\(note)")
                }
                for version in versions where version != primary {
                    let wrapped = counts.filter { $0.kek == version }.reduce(0) { $0 + $1.count }
                    // A KMS key is retired by configuration, not by editing the keyring file.
                    let retire =
                        AWSKMSKeyProvider.isKMSKey(version)
                        ? "unset \(SwitchyardSettings.awsKMSKeyID.environmentKey)" : "`switchyard keys retire --version \(version.version)`"
                    print(
                        wrapped == 0
                            ? "\(version): wraps nothing; safe to retire (\(retire))"
                            : "\(version): still wraps \(wrapped) key(s); not safe to retire until `switchyard keys rewrap` moves them"
                    )
                }
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a key version from the keyring file, once no stored key is wrapped by it.",
            discussion:
                "Refuses the primary version and any version that still wraps a tenant's data key or a platform secret's key. Keep a backup of the old keyring as long as database backups made before the rewrap are kept."
        )

        @Option(help: "The key version to remove.")
        var version: Int

        @Option(help: "The keyring file (default: SWITCHYARD_KEYRING_FILE).")
        var keyring: String?

        func run() async throws {
            let path = try keyringFile(keyring)
            try await withMaintenanceDatabase(label: "switchyard.keys") { database, logger in
                let current = try LocalKeyring.load(path: path)
                let retiring = KEKVersion(keyID: current.keyID, version: version)
                let remaining = try await database.dataKeyCounts(logger: logger).filter { $0.kek == retiring }.reduce(0) { $0 + $1.count }
                guard remaining == 0 else {
                    throw ValidationError("\(retiring) still wraps \(remaining) key(s); run `switchyard keys rewrap` first")
                }
                do {
                    try current.retiring(version).write(to: path, replacing: true)
                } catch {
                    throw ValidationError("\(error)")
                }
                print("switchyard keys retire: \(retiring) removed from \(path); running processes read the file again at their next wrap")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Open every stored secret and list the ones that do not open (altered, copied from another record, or wrapped by a missing key version).",
            discussion: "Reads only. Exits 1 when any secret does not open; each line names the tenant, table, field and row."
        )

        func run() async throws {
            try await withMaintenanceDatabase(label: "switchyard.keys") { database, logger in
                let verification = try await database.verifySecrets(logger: logger)
                for secret in verification.unopened { print(secret) }
                print("switchyard keys verify: \(verification.opened) secret(s) open; \(verification.unopened.count) do not")
                if !verification.unopened.isEmpty { throw ExitCode.failure }
            }
        }
    }
}

/// The keyring file a command changes: `--keyring`, else `SWITCHYARD_KEYRING_FILE`.
func keyringFile(_ option: String?) throws -> String {
    guard let path = option ?? ProcessInfo.processInfo.environment[SwitchyardSettings.keyringFile.environmentKey] else {
        throw ValidationError(
            "name the keyring file with --keyring or SWITCHYARD_KEYRING_FILE (a keyring given as SWITCHYARD_KEYRING cannot be changed in place)"
        )
    }
    return path
}

/// Runs `body` with a started database pool of the application role and the configured vault.
func withMaintenanceDatabase(label: String, _ body: (Database, Logger) async throws -> Void) async throws {
    let configuration = try SwitchyardConfiguration.loadOrExit(requiring: .init(adminKey: false))
    configuration.logging.bootstrap()
    let logger = Logger(label: label)
    let vault = try await Vault.loadOrExit(configuration)
    let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await database.run() }
        defer { group.cancelAll() }
        try await body(database, logger)
    }
}
