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
        subcommands: [Generate.self, Rotate.self, Rewrap.self, Reseal.self, Status.self]
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
            print("switchyard keys generate: wrote \(output) (key \(keyID), version 1 primary). Keep it secret and backed up: without it no secret can be read.")
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new key version to the keyring file and make it primary; older versions keep decrypting.",
            discussion: "Then run `switchyard keys rewrap` to move every data key to the new version. Running processes read the file again when they meet the new version."
        )

        @Option(help: "The keyring file (default: SWITCHYARD_KEYRING_FILE).")
        var keyring: String?

        func run() throws {
            guard let path = keyring ?? ProcessInfo.processInfo.environment["SWITCHYARD_KEYRING_FILE"] else {
                throw ValidationError("name the keyring file with --keyring or SWITCHYARD_KEYRING_FILE (a keyring given as SWITCHYARD_KEYRING cannot be rotated in place)")
            }
            do {
                let rotated = try LocalKeyring.load(path: path).rotated()
                try rotated.write(to: path, replacing: true)
                print("switchyard keys rotate: \(path) now has versions \(rotated.versions.map(\.number).map(String.init).joined(separator: ", ")); primary \(rotated.primary)")
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
                print("switchyard keys rewrap: \(progress.done) data key(s) moved to \(try await database.vault.provider.primaryVersion()); \(progress.remaining) left")
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
        static let configuration = CommandConfiguration(abstract: "Count data keys per key version and state.")

        func run() async throws {
            try await withMaintenanceDatabase(label: "switchyard.keys") { database, logger in
                let primary = try await database.vault.provider.primaryVersion()
                let versions = try await database.vault.provider.availableVersions()
                print("keyring: versions \(versions.map(\.description).joined(separator: ", ")); primary \(primary)")
                let counts = try await database.dataKeyCounts(logger: logger)
                if counts.isEmpty { print("no data keys") }
                for count in counts {
                    let note = count.kek == primary ? "" : (versions.contains(count.kek) ? "  (run `switchyard keys rewrap`)" : "  (NOT IN THE KEYRING)")
                    print("\(count.kek)\t\(count.state)\t\(count.count)\(note)")
                }
            }
        }
    }
}

/// Runs `body` with a started database pool of the application role and the configured vault.
func withMaintenanceDatabase(label: String, _ body: (Database, Logger) async throws -> Void) async throws {
    let configuration = try SwitchyardConfiguration.loadOrExit(requiring: .init(adminKey: false))
    configuration.logging.bootstrap()
    let logger = Logger(label: label)
    let vault = try Vault.loadOrExit(configuration.keyring)
    let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await database.run() }
        defer { group.cancelAll() }
        try await body(database, logger)
    }
}
