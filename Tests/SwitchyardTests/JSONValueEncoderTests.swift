import Foundation
import SwitchyardCore
import Testing

@Suite("JSONValueEncoder")
struct JSONValueEncoderTests {
    struct Inner: Encodable {
        let tags: [String]
        let when: Date
    }

    struct Outer: Encodable {
        enum CodingKeys: String, CodingKey, RequiredNullableKeys {
            case id, count, small, big, ratio, fraction, flag, cursor, note, inner, list, url, raw
            static let requiredNullable: Set<String> = ["cursor"]
        }

        let id: UUID
        let count: Int
        let small: Int8
        let big: UInt64
        let ratio: Double
        let fraction: Float
        let flag: Bool
        let cursor: String?
        let note: String?
        let inner: Inner
        let list: [Inner]
        let url: URL
        let raw: JSONValue

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(count, forKey: .count)
            try container.encode(small, forKey: .small)
            try container.encode(big, forKey: .big)
            try container.encode(ratio, forKey: .ratio)
            try container.encode(fraction, forKey: .fraction)
            try container.encode(flag, forKey: .flag)
            try container.encodeIfPresent(cursor, forKey: .cursor)
            try container.encodeIfPresent(note, forKey: .note)
            try container.encode(inner, forKey: .inner)
            try container.encode(list, forKey: .list)
            try container.encode(url, forKey: .url)
            try container.encode(raw, forKey: .raw)
        }
    }

    @Test("every kind of value lands as JSONEncoder would write it, a required nullable nil as null, another nil left out")
    func values() throws {
        let id = UUID()
        let when = Date(timeIntervalSince1970: 1_709_164_800.75)
        let value = Outer(
            id: id,
            count: -3,
            small: -8,
            big: 1 << 40,
            ratio: 0.25,
            fraction: 1.5,
            flag: true,
            cursor: nil,
            note: nil,
            inner: Inner(tags: ["a", "b"], when: when),
            list: [Inner(tags: [], when: when)],
            url: URL(string: "https://example.com/a?b=c")!,
            raw: .object(["k": .array([.null, .number(1)])])
        )
        let inner: JSONValue = .object(["tags": .array([.string("a"), .string("b")]), "when": .string("2024-02-29T00:00:00Z")])
        #expect(
            try JSONValueEncoder().encode(value)
                == .object([
                    "id": .string(id.uuidString), "count": .number(-3), "small": .number(-8), "big": .number(1_099_511_627_776),
                    "ratio": .number(0.25), "fraction": .number(1.5), "flag": .bool(true), "cursor": .null, "inner": inner,
                    "list": .array([.object(["tags": .array([]), "when": .string("2024-02-29T00:00:00Z")])]),
                    "url": .string("https://example.com/a?b=c"), "raw": .object(["k": .array([.null, .number(1)])]),
                ])
        )
    }

    struct Repeated: Encodable {
        enum CodingKeys: String, CodingKey { case b, a, é, z }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("first", forKey: .b)
            try container.encode("quote \" backslash \\ newline \n tab \t bell \u{7}", forKey: .z)
            try container.encode(1, forKey: .é)
            try container.encode([1.5, 2], forKey: .a)
            try container.encode("second", forKey: .b)
        }
    }

    @Test("the text written from the tree is the text of the JSONValue: keys in byte order, a repeated key's last value, escapes")
    func serialized() throws {
        let encoder = JSONValueEncoder()
        let repeated = try encoder.serialize(Repeated())
        #expect(repeated == (try encoder.encode(Repeated()).serialized()))
        #expect(
            String(decoding: repeated, as: UTF8.self)
                == #"{"a":[1.5,2],"b":"second","z":"quote \" backslash \\ newline \n tab \t bell \u0007","é":1}"#
        )
        let when = Date(timeIntervalSince1970: 0)
        let outer = Outer(
            id: UUID(),
            count: 1,
            small: 2,
            big: 3,
            ratio: 0.1,
            fraction: 0.5,
            flag: false,
            cursor: nil,
            note: "n/a",
            inner: Inner(tags: ["x"], when: when),
            list: [],
            url: URL(string: "https://example.com/")!,
            raw: .null
        )
        #expect(try encoder.serialize(outer) == encoder.encode(outer).serialized())
        #expect(try encoder.serialize([String]()) == Array("[]".utf8))
    }

    @Test("a number JSON cannot hold is refused with the path to it")
    func nonFinite() {
        do {
            _ = try JSONValueEncoder().encode(["values": [1.0, .infinity]])
            Issue.record("infinity was encoded")
        } catch let EncodingError.invalidValue(_, context) {
            #expect(context.codingPath.map(\.stringValue) == ["values"])
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
