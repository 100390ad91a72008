import Foundation

/// This process's resident memory, from Linux's `/proc/self/status`; zero where there is no such file.
enum ProcessMemory {
    /// Resident set size now, in bytes.
    static var resident: Int { field("VmRSS") }

    /// The resident set's high-water mark since the process started or since `resetPeak()`, in bytes.
    static var peakResident: Int { field("VmHWM") }

    /// Sets the high-water mark to the current resident size (writing `5` to `clear_refs`, Linux 4.0+), so that
    /// a phase's peak is its own and not an earlier phase's.
    static func resetPeak() {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        try? handle.write(contentsOf: Data("5".utf8))
        try? handle.close()
    }

    private static func field(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            // "VmRSS:     123456 kB"
            let kilobytes = line.dropFirst(name.count + 1).split(separator: " ").first.flatMap { Int($0) } ?? 0
            return kilobytes * 1024
        }
        return 0
    }
}
