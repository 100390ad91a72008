import Foundation
import SwitchyardDevCluster
import Testing

@Suite("switchyard dev")
struct DevEnvironmentTests {
    @Test("a folder the postgres user cannot enter maps to one cluster folder, the same in every process (issue 12, item 12)")
    func clusterFolderIsStable() {
        let folder = URL(filePath: "/root/projects/switchyard/.switchyard")
        // The first 8 bytes of SHA-256 of the path, computed outside Swift: a name from `hashValue` would differ per process.
        #expect(DevEnvironment.reachableClusterDirectory(for: folder).path == "/var/tmp/switchyard-dev-d9bd9c3fa17ebe60")
        #expect(
            DevEnvironment.reachableClusterDirectory(for: URL(filePath: "/root/projects/switchyard/.switchyard/")).path
                == "/var/tmp/switchyard-dev-d9bd9c3fa17ebe60"
        )
    }
}
