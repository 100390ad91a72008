import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("Expiring cache")
struct ExpiringCacheTests {
    @Test("an entry is served until its time to live has passed, then is missing until stored again")
    func expiry() {
        let cache = ExpiringCache<String, Int>(timeToLive: .seconds(2), capacity: 10)
        let start = ContinuousClock.now
        cache.store(1, for: "a", now: start)
        #expect(cache.value(for: "a", now: start) == 1)
        #expect(cache.value(for: "a", now: start + .milliseconds(1999)) == 1)
        #expect(cache.value(for: "a", now: start + .seconds(2)) == nil)
        cache.store(2, for: "a", now: start + .seconds(2))
        #expect(cache.value(for: "a", now: start + .seconds(3)) == 2)
    }

    @Test("without a time to live an entry stays until removed; past the capacity the table starts over")
    func capacityAndRemoval() {
        let cache = ExpiringCache<Int, String>(timeToLive: nil, capacity: 3)
        let start = ContinuousClock.now
        for key in 0..<3 { cache.store("\(key)", for: key, now: start) }
        #expect(cache.value(for: 0, now: start + .seconds(86_400)) == "0")
        cache.remove(0)
        #expect(cache.value(for: 0) == nil)
        cache.store("0", for: 0)
        // Replacing a present key does not count against the capacity.
        cache.store("zero", for: 0)
        #expect(cache.count == 3)
        cache.store("3", for: 3)
        #expect(cache.count == 1)
        #expect(cache.value(for: 3) == "3")
        #expect(cache.value(for: 1) == nil)
    }

    @Test("callers missing the same key while it is built share one build; a failed build is not stored")
    func sharedBuild() async throws {
        let cache = ExpiringCache<String, Int>(timeToLive: .seconds(60), capacity: 10)
        let builds = SharedCounter()
        let gate = Gate()
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await cache.value(for: "a") {
                        builds.add()
                        try await gate.wait()
                        return 7
                    }
                }
            }
            // Callers that came before the gate opens wait for the one build; any later one finds its value stored.
            try await Task.sleep(for: .milliseconds(100))
            gate.release()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values == Array(repeating: 7, count: 50))
        #expect(builds.value == 1)
        #expect(try await cache.value(for: "a") { 8 } == 7, "served from the table once built")

        struct Failed: Error {}
        await #expect(throws: Failed.self) { try await cache.value(for: "b") { throw Failed() } }
        #expect(try await cache.value(for: "b") { 9 } == 9, "a failed build is not stored: the next miss builds again")
    }

    @Test("a build in progress when its key is removed serves its callers, is not stored, and the next miss builds again")
    func removalDuringBuild() async throws {
        for removeAll in [false, true] {
            let cache = ExpiringCache<String, Int>(timeToLive: .seconds(60), capacity: 10)
            let builds = SharedCounter()
            let gate = Gate()
            let first = Task {
                try await cache.value(for: "key") {
                    builds.add()
                    try await gate.wait()
                    return 1
                }
            }
            while builds.value == 0 { try await Task.sleep(for: .milliseconds(1)) }
            // As a revoked API key is evicted while a lookup that read it before the revocation is still running.
            if removeAll { cache.removeAll { _ in true } } else { cache.remove("key") }
            let second = Task {
                try await cache.value(for: "key") {
                    builds.add()
                    return 2
                }
            }
            defer { gate.release() }
            try await eventually("a miss after the removal builds on its own, without waiting for the build it dropped", timeout: .seconds(10)) {
                builds.value == 2
            }
            #expect(try await second.value == 2)
            gate.release()
            #expect(try await first.value == 1)
            #expect(builds.value == 2)
            #expect(cache.value(for: "key") == 2, "the dropped build did not overwrite the later one")
        }
    }

    @Test("within refreshAhead of its expiry an entry is served while one background build replaces it; a failed rebuild leaves it to expire")
    func refreshAhead() async throws {
        let cache = ExpiringCache<String, Int>(timeToLive: .seconds(10), refreshAhead: .seconds(2), capacity: 10)
        let start = ContinuousClock.now
        cache.store(1, for: "a", now: start)
        let builds = SharedCounter()
        #expect(
            try await cache.value(for: "a", now: start + .seconds(7)) {
                builds.add()
                return 2
            } == 1
        )
        #expect(builds.value == 0, "before the window, no rebuild")

        // In the window: answered from the entry at once, while the rebuild (held by the gate) runs; a second read in
        // the window joins that rebuild instead of starting another.
        let gate = Gate()
        defer { gate.release() }
        let inWindow = start + .seconds(9)
        #expect(
            try await cache.value(for: "a", now: inWindow) {
                builds.add()
                try await gate.wait()
                return 2
            } == 1
        )
        #expect(
            try await cache.value(for: "a", now: inWindow) {
                builds.add()
                return 3
            } == 1
        )
        try await eventually("the rebuild started") { builds.value == 1 }
        gate.release()
        try await eventually("the rebuild stored its value") { cache.value(for: "a") == 2 }
        #expect(builds.value == 1)

        struct Failed: Error {}
        let failing = ExpiringCache<String, Int>(timeToLive: .seconds(10), refreshAhead: .seconds(2), capacity: 10)
        failing.store(1, for: "a", now: start)
        let attempts = SharedCounter()
        // Each read in the window joins the failing rebuild in progress or, once it has ended, starts the next.
        try await eventually("a failed rebuild ends and the next read in the window starts another") {
            let served = try await failing.value(for: "a", now: inWindow) { () async throws -> Int in
                attempts.add()
                throw Failed()
            }
            #expect(served == 1)
            return attempts.value >= 2
        }
        #expect(failing.value(for: "a", now: start + .milliseconds(9_999)) == 1, "the failed rebuilds left the entry")
        #expect(failing.value(for: "a", now: start + .seconds(10)) == nil, "and it expired on time")
    }
}
