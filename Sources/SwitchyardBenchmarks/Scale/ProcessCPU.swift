import Foundation

/// CPU time read from `/proc` (Linux): where a benchmark's time went, by process.
enum ProcessCPU {
    /// Clock ticks per second of `/proc`'s CPU figures.
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// User plus system CPU seconds `pid` has used so far; nil when it is gone.
    static func seconds(of pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command's closing parenthesis: state is field 3, utime 14 and stime 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / ticksPerSecond
    }

    /// The parent of `pid`, from `/proc`; nil when it is gone.
    static func parent(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// `pid` and its children: a PostgreSQL server's postmaster and its backends and workers.
    static func family(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return [pid] + entries.compactMap { entry in Int32(entry).flatMap { parent(of: $0) == pid ? $0 : nil } }
    }

    /// CPU seconds so far of each process of the PostgreSQL server whose postmaster is `postmaster` (none when the
    /// server is not on this machine).
    static func server(_ postmaster: Int32?) -> [Int32: Double] {
        guard let postmaster else { return [:] }
        return Dictionary(uniqueKeysWithValues: family(of: postmaster).compactMap { pid in seconds(of: pid).map { (pid, $0) } })
    }

    /// The CPU seconds a server's processes used since `before` (a backend that left meanwhile is not counted).
    static func server(_ postmaster: Int32?, since before: [Int32: Double]) -> Double {
        server(postmaster).reduce(0) { sum, entry in sum + entry.value - (before[entry.key] ?? 0) }
    }

    /// CPU seconds the whole machine spent busy (all but idle and iowait), summed over its cores.
    static func machineBusySeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return 0 }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return 0 }
        return (values.reduce(0, +) - values[3] - values[4]) / ticksPerSecond
    }

    /// The machine's cores.
    static let cores = Double(ProcessInfo.processInfo.activeProcessorCount)

    /// The share of the machine's cores (0 to 1) that `busySeconds` of CPU (`machineBusySeconds()` over a phase) kept
    /// busy over `seconds`.
    static func machineShare(busySeconds: Double, over seconds: Double) -> Double {
        seconds > 0 ? busySeconds / (seconds * cores) : 0
    }

    /// CPU seconds of this process's children that have exited and been waited for (a load generator process).
    static func childrenSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8), let end = stat.lastIndex(of: ")") else { return 0 }
        // cutime and cstime are fields 16 and 17.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 14, let user = Double(fields[13]), let system = Double(fields[14]) else { return 0 }
        return (user + system) / ticksPerSecond
    }
}

extension ProcessCPU {
    /// CPU seconds so far of this process, of a PostgreSQL server's processes and of the whole machine: taken at a
    /// phase's start and end, the difference is what the phase cost each.
    struct Mark: Sendable {
        let own: Double
        let postgres: [Int32: Double]
        let machine: Double

        init(postmaster: Int32?) {
            own = ProcessCPU.seconds(of: getpid()) ?? 0
            postgres = ProcessCPU.server(postmaster)
            machine = ProcessCPU.machineBusySeconds()
        }

        /// The CPU seconds spent since `start` by this process, by PostgreSQL (a backend that left meanwhile is not
        /// counted) and by the machine.
        func since(_ start: Mark) -> (own: Double, postgres: Double, machine: Double) {
            (own - start.own, postgres.reduce(0) { sum, entry in sum + entry.value - (start.postgres[entry.key] ?? 0) }, machine - start.machine)
        }
    }

    /// The postmaster of the PostgreSQL server whose backend is `backend`, when that server runs on this machine.
    static func postmaster(ofBackend backend: Int32) -> Int32? {
        parent(of: backend).flatMap { seconds(of: $0) == nil ? nil : $0 }
    }
}
