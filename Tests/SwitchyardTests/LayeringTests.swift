import Foundation
import SwitchyardTestSupport
import Testing

/// Benchmark load generators and the private PostgreSQL cluster (which may run `apt-get`) are not production code:
/// they live in SwitchyardBenchmarks and SwitchyardDevCluster, which only the `switchyard` executable (for `bench` and
/// `dev`) and the tests may use. Every other target under `Sources/` is production and must reach neither, by an
/// import in its sources or by a dependency in Package.swift, direct or through another target.
@Suite("layering: production targets do not use the benchmarks or the dev cluster")
struct LayeringTests {
    static let root = Schemathesis.packageRoot
    static let nonProduction: Set<String> = ["SwitchyardBenchmarks", "SwitchyardDevCluster"]
    /// Targets under `Sources/` that may use them.
    static let allowedUsers: Set<String> = ["switchyard"]

    /// Every target directory under `Sources/` but the executable and the non-production ones: a new target is
    /// covered without being listed here.
    static func productionTargets() throws -> [String] {
        let sources = root.appending(path: "Sources")
        return try FileManager.default.contentsOfDirectory(atPath: sources.path)
            .filter { name in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: sources.appending(path: name).path, isDirectory: &isDirectory)
                    && isDirectory.boolValue
            }
            .filter { !nonProduction.contains($0) && !allowedUsers.contains($0) }
            .sorted()
    }

    /// The module an `import` declaration names (`import X`, `@testable import X`, `public import X`,
    /// `import struct X.Y`, ...), or `nil` for any other line.
    static func importedModule(_ line: some StringProtocol) -> String? {
        var tokens = line.split(whereSeparator: \.isWhitespace)[...]
        while let first = tokens.first, first.hasPrefix("@") { tokens = tokens.dropFirst() }
        if let first = tokens.first, ["public", "package", "internal", "fileprivate", "private"].contains(first) {
            tokens = tokens.dropFirst()
        }
        guard tokens.first == "import" else { return nil }
        tokens = tokens.dropFirst()
        if let kind = tokens.first, ["struct", "class", "enum", "protocol", "typealias", "func", "let", "var", "actor"].contains(kind) {
            tokens = tokens.dropFirst()
        }
        guard let path = tokens.first, let module = path.split(separator: ".").first else { return nil }
        return String(module)
    }

    /// Each target in Package.swift with the targets of this package it lists as dependencies (products of other
    /// packages left out).
    static func manifestGraph() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: root.appending(path: "Package.swift"), encoding: .utf8)
        let declarations = manifest.matches(of: #/\.(?:target|executableTarget|testTarget|plugin)\(\s*name:\s*"([^"]+)"/#)
        var graph: [String: Set<String>] = [:]
        for (index, declaration) in declarations.enumerated() {
            let end = index + 1 < declarations.count ? declarations[index + 1].range.lowerBound : manifest.endIndex
            let body = manifest[declaration.range.upperBound..<end]
            var dependencies: Set<String> = []
            if let list = body.firstMatch(of: #/dependencies:\s*\[([^\]]*)\]/#) {
                let local = list.1.replacing(#/\.product\([^)]*\)/#, with: "")
                dependencies = Set(local.matches(of: #/"([^"]+)"/#).map { String($0.1) })
            }
            graph[String(declaration.1)] = dependencies
        }
        return graph
    }

    @Test("the import scan recognises every spelling of an import")
    func importSpellings() {
        #expect(Self.importedModule("import SwitchyardBenchmarks") == "SwitchyardBenchmarks")
        #expect(Self.importedModule("  @testable import SwitchyardDevCluster") == "SwitchyardDevCluster")
        #expect(Self.importedModule("@preconcurrency public import SwitchyardBenchmarks") == "SwitchyardBenchmarks")
        #expect(Self.importedModule("package import struct SwitchyardDevCluster.LocalPostgresCluster") == "SwitchyardDevCluster")
        #expect(Self.importedModule("@_spi(Testing) @_exported import SwitchyardBenchmarks // why") == "SwitchyardBenchmarks")
        #expect(Self.importedModule("// import SwitchyardBenchmarks") == nil)
        #expect(Self.importedModule("let importance = SwitchyardBenchmarks") == nil)
    }

    @Test("the production targets are found where they live")
    func productionTargetsFound() throws {
        let found = Set(try Self.productionTargets())
        let expected: Set<String> = [
            "SwitchyardCore", "SwitchyardPostgres", "SwitchyardJobs", "SwitchyardAPI", "SwitchyardOAuth", "SwitchyardWebhooks",
            "SwitchyardHTTP", "SwitchyardVault", "SwitchyardOutbound", "SwitchyardProviders", "SwitchyardMetrics",
            "SwitchyardAPIContract",
        ]
        #expect(expected.isSubset(of: found), "missing under Sources/: \(expected.subtracting(found).sorted())")
        let graph = try Self.manifestGraph()
        for target in found.union(Self.nonProduction).union(Self.allowedUsers) {
            #expect(graph[target] != nil, "Sources/\(target) is not a target in Package.swift")
        }
    }

    @Test("no production source file imports SwitchyardBenchmarks or SwitchyardDevCluster")
    func noProductionImports() throws {
        var scanned = 0
        for target in try Self.productionTargets() {
            let directory = Self.root.appending(path: "Sources/\(target)")
            let files = try #require(FileManager.default.enumerator(atPath: directory.path)).compactMap { $0 as? String }
                .filter { $0.hasSuffix(".swift") }
            #expect(!files.isEmpty, "Sources/\(target) holds no Swift file")
            for file in files {
                let text = try String(contentsOf: directory.appending(path: file), encoding: .utf8)
                scanned += 1
                for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    guard let module = Self.importedModule(line), Self.nonProduction.contains(module) else { continue }
                    Issue.record("Sources/\(target)/\(file):\(number + 1) imports \(module), which production code must not use")
                }
            }
        }
        #expect(scanned > 100, "only \(scanned) files scanned")
    }

    @Test("no production target depends on them in Package.swift, directly or through another target")
    func noProductionDependencies() throws {
        let graph = try Self.manifestGraph()
        for target in try Self.productionTargets() {
            var reached: Set<String> = []
            var pending = Array(graph[target] ?? [])
            while let next = pending.popLast() {
                guard reached.insert(next).inserted else { continue }
                pending += graph[next] ?? []
            }
            let forbidden = reached.intersection(Self.nonProduction)
            #expect(forbidden.isEmpty, "\(target) depends on \(forbidden.sorted()) in Package.swift")
        }
        // And the ones that may: the executable for `bench` and `dev`.
        #expect(graph["switchyard"]?.isSuperset(of: Self.nonProduction) == true)
    }
}
