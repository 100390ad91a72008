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
        // Read, not stat-sized: procfs files report a size of 0.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/status") else { return 0 }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return 0 }
        let status = String(decoding: data, as: UTF8.self)
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            // "VmRSS:\t  123456 kB"
            let kilobytes = line.dropFirst(name.count + 1).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 0
            return kilobytes * 1024
        }
        return 0
    }
}
