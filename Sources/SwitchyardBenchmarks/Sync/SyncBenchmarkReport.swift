import Foundation

/// The figures of `switchyard bench sync`.
public struct SyncBenchmarkReport: Sendable, CustomStringConvertible {
    public let records: Int
    public let recordBytes: Int
    public let pageSize: Int
    public let fullSeconds: Double
    public let fullPages: Int
    /// The faster of the ceiling's passes (one before the full run, one after).
    public let ceilingSeconds: Double
    public let ceilingPasses: [Double]
    /// Resident bytes when the full run started, and the high-water mark when it ended.
    public let residentBefore: Int
    public let peakResident: Int
    public let incrementalSeconds: Double
    public let incrementalPages: Int
    /// Records changed at the provider before the incremental run.
    public let changed: Int
    public let incrementalAdded: Int
    public let incrementalUpdated: Int
    public let incrementalUnchanged: Int
    /// Records removed at the provider before the second full run, and what that run did.
    public let removed: Int
    public let rescanSeconds: Double
    public let rescanDeleted: Int
    public let rescanWritten: Int

    public var pathRate: Double { Double(records) / fullSeconds }
    public var ceilingRate: Double { Double(records) / ceilingSeconds }
    public var ratio: Double { pathRate / ceilingRate }
    public var peakGrowth: Int { max(0, peakResident - residentBefore) }
    public var incrementalPercent: Double { incrementalSeconds / fullSeconds * 100 }
    public var incrementalWritten: Int { incrementalAdded + incrementalUpdated }

    public var description: String {
        func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
        let writesOnlyChanged = incrementalAdded == 0 && incrementalUpdated == changed
        return """
            records:             \(records) of ~\(recordBytes) bytes from a loopback provider, pages of \(pageSize) (cursor in the body)
            sync (full run):     \(Int(pathRate.rounded())) records/s  (\(String(format: "%.2f", fullSeconds)) s, \(fullPages) pages; fetch over HTTP, parse, hash, upsert and checkpoint, one transaction per page; delete detection at the end)
            raw ceiling:         \(Int(ceilingRate.rounded())) records/s  (\(String(format: "%.2f", ceilingSeconds)) s, the faster of \(ceilingPasses.map { String(format: "%.2f", $0) }.joined(separator: " and ")) s before and after the full run; the same pages, one prepared multi-row upsert per page, autocommit, no HTTP, hashes computed beforehand)
            ratio:               \(String(format: "%.2f", ratio))  (sync / ceiling; the goal is >= 0.6)
            peak RSS growth:     \(megabytes(peakGrowth)) during the full run  (resident \(megabytes(residentBefore)) before, peak \(megabytes(peakResident)); the goal is < 100 MB)
            incremental run:     \(String(format: "%.3f", incrementalSeconds)) s, \(String(format: "%.1f", incrementalPercent))% of the full run  (the goal is < 10%); \(incrementalPages) pages
            incremental writes:  \(incrementalWritten) rows for \(changed) changed records (added \(incrementalAdded), updated \(incrementalUpdated), unchanged \(incrementalUnchanged))\(writesOnlyChanged ? "" : "  MISMATCH: expected exactly the changed records")
            delete detection:    a second full run after \(removed) records were removed: \(rescanDeleted) marked deleted, \(rescanWritten) rows written, \(String(format: "%.2f", rescanSeconds)) s\(rescanDeleted == removed && rescanWritten == 0 ? "" : "  MISMATCH: expected exactly the removed records deleted, nothing written")
            """
    }
}
