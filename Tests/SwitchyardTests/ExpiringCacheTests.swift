import SwitchyardCore
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
}
