import Foundation

// Usage: switchyard-embed-migrations OUTPUT.swift FILE.sql...
// Writes `let embeddedMigrationFiles: [(name: String, sql: String)]` in file-name order.
let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: switchyard-embed-migrations OUTPUT FILE...\n".utf8))
    exit(2)
}
var source = "// Generated from Migrations/*.sql by the EmbedMigrations plugin. Do not edit.\n"
source += "let embeddedMigrationFiles: [(name: String, sql: String)] = [\n"
for path in arguments.dropFirst().sorted(by: { ($0 as NSString).lastPathComponent < ($1 as NSString).lastPathComponent }) {
    let name = (path as NSString).lastPathComponent
    let sql = try String(contentsOfFile: path, encoding: .utf8)
    // A raw string with a long delimiter: SQL never contains `"""####`.
    source += "    (name: \"\(name)\", sql: ####\"\"\"\n\(sql)\n\"\"\"####),\n"
}
source += "]\n"
try source.write(toFile: output, atomically: true, encoding: .utf8)
