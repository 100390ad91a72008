import Foundation
import Logging
import SwitchyardDevCluster
import SwitchyardTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Private PostgreSQL cluster")
struct LocalClusterTests {
    @Test("the server a cluster starts holds none of the starting process's sockets (a peer would never see them close)")
    func serverInheritsNoSockets() async throws {
        // A socket without close-on-exec, like the test servers' and clients' sockets open while a suite starts a cluster.
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)")

        let logger = Logger(label: "switchyard.tests.local-cluster")
        let directory = ClusterDirectory.scratch("fds")
        try await LocalPostgresCluster.withStarted(.init(directory: directory, durable: false), removingFiles: true, logger: logger) { _ in
            let pidFile = try String(contentsOf: directory.appending(path: "pgdata/postmaster.pid"), encoding: .utf8)
            let postmaster = try #require(pidFile.split(separator: "\n").first.map(String.init))
            let theirs = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(postmaster)/fd").compactMap {
                try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(postmaster)/fd/\($0)")
            }
            #expect(!theirs.isEmpty, "could not read the server's descriptors")
            #expect(!theirs.contains(ours), "the server inherited \(ours)")
        }
    }
}
