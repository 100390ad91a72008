import Foundation
import SwitchyardCore
import Testing

@Suite("Version 7 UUIDs (RFC 9562 §5.7)")
struct UUIDv7Tests {
    @Test("the first 48 bits are the Unix milliseconds, the version is 7, the variant RFC 4122, the other 74 bits random")
    func layout() {
        let now = Date(timeIntervalSince1970: 1_765_000_000.123)
        let ids = (0..<2_000).map { _ in UUID.v7(now: now) }
        for id in ids {
            let bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
            let milliseconds = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            #expect(milliseconds == 1_765_000_000_123)
            #expect(bytes[6] >> 4 == 7)
            #expect(bytes[8] >> 6 == 0b10)
        }
        #expect(Set(ids).count == ids.count)
        // Every random bit takes both values across 2,000 ids (a constant bit would mean a stuck draw).
        let random = ids.map { id in withUnsafeBytes(of: id.uuid) { Array($0) } }
        for (index, mask) in [(6, 0x0F), (7, 0xFF), (8, 0x3F), (9, 0xFF), (10, 0xFF), (15, 0xFF)] as [(Int, UInt8)] {
            #expect(random.reduce(UInt8(0)) { $0 | $1[index] } & mask == mask)
            #expect(random.reduce(mask) { $0 & $1[index] } & mask == 0)
        }
    }

    @Test("ids made milliseconds apart sort by time, and after the floor of their time")
    func ordering() {
        let start = Date(timeIntervalSince1970: 1_765_000_000)
        let ids = (0..<100).map { UUID.v7(now: start.addingTimeInterval(Double($0) * 0.002)) }
        #expect(ids.map(\.uuidString) == ids.map(\.uuidString).sorted())
        for (offset, id) in ids.enumerated() {
            #expect(UUID.v7Floor(at: start.addingTimeInterval(Double(offset) * 0.002)).uuidString <= id.uuidString)
        }
    }

    @Test("the API's spelling of an id is Foundation's, lowercased, for every nibble value")
    func lowercasedSpelling() {
        var ids = (0..<500).map { _ in UUID() }
        ids.append(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        ids.append(UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        ids.append(UUID(uuidString: "01234567-89AB-CDEF-FEDC-BA9876543210")!)
        for id in ids {
            #expect(id.lowercasedString == id.uuidString.lowercased())
            #expect(UUID(uuidString: id.lowercasedString) == id)
            #expect(UUID(hyphenated: id.lowercasedString) == id)
            #expect(UUID(hyphenated: id.uuidString) == id)
        }
        #expect(ids[ids.count - 1].lowercasedString == "01234567-89ab-cdef-fedc-ba9876543210")
    }

    @Test("the hyphenated reader refuses what Foundation refuses")
    func hyphenatedRefusals() {
        for text in [
            "", "01234567-89ab-cdef-fedc-ba987654321", "01234567-89ab-cdef-fedc-ba98765432100", "0123456789ab-cdef-fedc-ba9876543210x",
            "01234567_89ab-cdef-fedc-ba9876543210", "01234567-89ab-cdef-fedc-ba987654321g", "0123456-789ab-cdef-fedc-ba9876543210",
            "01234567-89ab-cdef-fedc-ba98765432é",
        ] {
            #expect(UUID(hyphenated: text) == nil, "\(text)")
            #expect(UUID(uuidString: text) == nil, "\(text)")
        }
    }
}
