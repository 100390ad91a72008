import Foundation
import SwitchyardAPI
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

/// `openapi/openapi.yaml` is the contract: every served route is documented and every documented route is served.
@Suite("OpenAPI document matches the served routes")
struct OpenAPIConformanceTests {
    static let documentURL = URL(filePath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "openapi/openapi.yaml")

    /// (METHOD, path template) pairs under `paths:`: paths are indented two spaces, operations four.
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOf: documentURL, encoding: .utf8)
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
        var operations = Set<String>()
        var inPaths = false
        var currentPath: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty && !line.hasPrefix("#") {
                inPaths = line.hasPrefix("paths:")
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                currentPath = String(line.dropFirst(2).dropLast()).trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path = currentPath {
                let key = line.dropFirst(4).prefix { $0 != ":" }
                if methods.contains(String(key)) { operations.insert("\(key.uppercased()) \(path)") }
            }
        }
        return operations
    }

    @Test("every route is documented and every documented operation is served")
    func routesMatch() async throws {
        let environment = try await TestEnvironment.make()
        let served = Set(try await environment.routeTable().routes.map { "\($0.method) \($0.template)" })
        let documented = try Self.documentedOperations()
        #expect(!documented.isEmpty)
        #expect(served.subtracting(documented).isEmpty, "served but not documented: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
    }
}
