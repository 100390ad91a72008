import Foundation
import SwitchyardCore
import Testing

/// The README's settings tables are rendered from the definitions (`SwitchyardSettings`), and every `SWITCHYARD_`
/// variable the sources, the README and the deploy files name is defined there.
@Suite("Configuration documentation")
struct ConfigurationDocumentationTests {
    static let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Each table follows its marker line in README.md.
    static let tables: [(marker: String, settings: [any ConfigurationSetting])] = [
        ("<!-- SwitchyardSettings.general: generated, checked by ConfigurationDocumentationTests -->", SwitchyardSettings.general),
        ("<!-- SwitchyardSettings.jobs: generated, checked by ConfigurationDocumentationTests -->", SwitchyardSettings.jobs),
        ("<!-- SwitchyardSettings.development: generated, checked by ConfigurationDocumentationTests -->", SwitchyardSettings.development),
    ]

    /// Variables named in README.md and deploy/ that are not Switchyard settings: the tests' and Compose's own.
    static let notSettings: Set<String> = [
        "SWITCHYARD_TEST_DATABASE_URL", "SWITCHYARD_FAULT_CRASHES", "SWITCHYARD_OWNER_PASSWORD", "SWITCHYARD_API_PASSWORD",
    ]

    static func render(_ settings: [any ConfigurationSetting]) -> String {
        var lines = ["| variable | meaning | default | accepts |", "|---|---|---|---|"]
        for setting in settings {
            let variable = "`\(setting.environmentKey)`" + (setting.isSecret ? " (secret)" : "")
            lines.append("| \(variable) | \(setting.documentation) | \(setting.documentedDefault) | \(setting.allowedValues) |")
        }
        return lines.joined(separator: "\n")
    }

    @Test("each README table is the one rendered from its settings", arguments: 0..<tables.count)
    func readmeTable(_ index: Int) throws {
        let (marker, settings) = Self.tables[index]
        let readme = try String(contentsOf: Self.root.appending(path: "README.md"), encoding: .utf8).components(separatedBy: "\n")
        let start = try #require(readme.firstIndex(of: marker), "README.md has no line \(marker)")
        let table = readme[(start + 1)...].prefix { $0.hasPrefix("|") }.joined(separator: "\n")
        let expected = Self.render(settings)
        if table != expected {
            Issue.record("README.md's table after \(marker) should read:\n\(expected)\n")
        }
    }

    @Test("the catalogue holds every setting once, and the README's tables hold them all")
    func catalogueIsComplete() {
        let keys = SwitchyardSettings.all.map(\.environmentKey)
        #expect(Set(keys).count == keys.count, "a setting is listed twice")
        #expect(Self.tables.flatMap { $0.settings.map(\.environmentKey) }.sorted() == keys.sorted())
        for key in keys {
            #expect(key.wholeMatch(of: /SWITCHYARD(_[A-Z0-9]+)+/) != nil, "\(key) is not an environment variable name of the usual form")
        }
    }

    @Test("every SWITCHYARD_ variable named in Sources, README.md and deploy/ is a defined setting")
    func everyNamedVariableIsDefined() throws {
        let defined = Set(SwitchyardSettings.all.map(\.environmentKey))
        var undefined: [String] = []
        for directory in ["Sources", "deploy"] {
            let files = try #require(FileManager.default.enumerator(at: Self.root.appending(path: directory), includingPropertiesForKeys: nil))
            for case let file as URL in files where !file.hasDirectoryPath {
                undefined += try Self.undefinedNames(in: file, defined: defined.union(directory == "Sources" ? [] : Self.notSettings))
            }
        }
        undefined += try Self.undefinedNames(in: Self.root.appending(path: "README.md"), defined: defined.union(Self.notSettings))
        #expect(undefined.isEmpty, "not defined in SwitchyardSettings:\n\(undefined.joined(separator: "\n"))")
    }

    /// `file:line: NAME` for each name not in `defined`; a name ending in `_` is a prefix (`SWITCHYARD_OUTBOUND_*`).
    static func undefinedNames(in file: URL, defined: Set<String>) throws -> [String] {
        let text = try String(contentsOf: file, encoding: .utf8)
        var found: [String] = []
        for (number, line) in text.components(separatedBy: "\n").enumerated() {
            for match in line.matches(of: /SWITCHYARD_[A-Z0-9_]+/) {
                let name = String(match.output)
                if !name.hasSuffix("_") && !defined.contains(name) {
                    found.append("\(file.path(percentEncoded: false).dropFirst(root.path(percentEncoded: false).count)):\(number + 1): \(name)")
                }
            }
        }
        return found
    }
}
