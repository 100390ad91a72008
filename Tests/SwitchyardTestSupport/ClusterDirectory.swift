import Foundation

/// Where the tests' private PostgreSQL clusters keep their files: in memory (`/dev/shm`) when it is a tmpfs with room
/// to spare, else in the temporary directory.
///
/// A full run creates some 400 databases from the migrated template and initialises half a dozen clusters, over a
/// hundred thousand files, and drops and deletes them again. On ext4 each new file's inode allocation skips inodes
/// freed moments ago, scanning inode tables to find them (`recently_deleted`): measured with `perf record -a` in the
/// first 75 s of a full run, 18% of the machine's CPU went to `ext4_create`, and for twenty seconds at a time the
/// kernel took 85-95% of both cores with 30-80 runnable threads, long enough for tests waiting 30 s on an executor or
/// a scheduler to time out. On tmpfs a file costs no inode scan: in the same measurement the seconds in which the
/// kernel took over 60% fell from 23 to 3. What the tests mean by a crash (every PostgreSQL process killed at once)
/// loses the same on tmpfs as on a disk: what was not yet written out of shared memory.
public enum ClusterDirectory {
    /// A new directory's URL (not created) for the cluster named `name`. The name carries this process's id, for
    /// `removeAbandoned()`.
    public static func scratch(_ name: String) -> URL {
        base.appending(path: "switchyard-\(name)-\(marker)\(getpid())-\(UUID().uuidString.prefix(8))")
    }

    /// Stops the servers and deletes the files of clusters whose test process is gone. A run stopped with Ctrl-C or
    /// killed exits without its exit handler, and in `/dev/shm` what it leaves (a running server, gigabytes of files)
    /// holds memory until someone removes it.
    public static func removeAbandoned() {
        let fileManager = FileManager.default
        guard let entries = try? fileManager.contentsOfDirectory(atPath: base.path) else { return }
        for entry in entries where entry.hasPrefix("switchyard-") {
            guard let owner = ownerProcess(of: entry), !isRunning(owner) else { continue }
            let directory = base.appending(path: entry)
            if let pidFile = try? String(contentsOf: directory.appending(path: "pgdata/postmaster.pid"), encoding: .utf8),
                let postmaster = pidFile.split(separator: "\n").first.flatMap({ pid_t($0) }),
                command(of: postmaster) == "postgres"
            {
                // Immediate shutdown: the postmaster ends its backends and exits; nothing here is worth a checkpoint.
                kill(postmaster, SIGQUIT)
            }
            try? fileManager.removeItem(at: directory)
        }
    }

    /// Between the cluster's name and its creator's process id.
    private static let marker = "pid"

    private static func ownerProcess(of entry: String) -> pid_t? {
        guard let range = entry.range(of: "-\(marker)", options: .backwards) else { return nil }
        return pid_t(entry[range.upperBound...].prefix { $0.isNumber })
    }

    private static func isRunning(_ process: pid_t) -> Bool {
        kill(process, 0) == 0 || errno == EPERM
    }

    private static func command(of process: pid_t) -> String? {
        (try? String(contentsOfFile: "/proc/\(process)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Free room that a run's clusters stay well within: the shared cluster reached 3.8 GB in a full run.
    static let roomNeeded: UInt64 = 8 << 30

    static let base: URL = {
        let memory = "/dev/shm"
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        let isTmpfs = mounts.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 2 && fields[1] == memory && fields[2] == "tmpfs"
        }
        let free = (try? FileManager.default.attributesOfFileSystem(forPath: memory)[.systemFreeSize] as? NSNumber)?.uint64Value ?? 0
        if isTmpfs, free >= roomNeeded, FileManager.default.isWritableFile(atPath: memory) {
            return URL(filePath: memory)
        }
        return URL(filePath: NSTemporaryDirectory())
    }()
}
