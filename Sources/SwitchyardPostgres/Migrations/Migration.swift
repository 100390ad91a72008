import Crypto
import Foundation

/// One numbered file of `Migrations/`, embedded into the binary at build time.
public struct Migration: Sendable, Equatable {
    /// The number the file name starts with (`0003_create_api_keys.sql` is version 3).
    public let version: Int
    public let name: String
    public let sql: String

    /// SHA-256 of the SQL text, recorded when applied so an edited migration is noticed.
    public var checksum: String {
        SHA256.hash(data: Array(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The migrations this build carries, in order.
    public static let all: [Migration] = embeddedMigrationFiles.map { file in
        let digits = file.name.prefix(while: \.isNumber)
        guard let version = Int(digits), !digits.isEmpty else {
            preconditionFailure("Migrations/\(file.name) must start with its number, e.g. 0005_create_jobs.sql")
        }
        return Migration(version: version, name: file.name, sql: file.sql)
    }

    /// The schema version this build expects.
    public static var latestVersion: Int { all.last?.version ?? 0 }
}
