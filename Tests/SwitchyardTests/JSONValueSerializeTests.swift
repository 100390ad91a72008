import Foundation
import SwitchyardCore
import Testing

@Suite("JSONValue serialized without JSONEncoder")
struct JSONValueSerializeTests {
    static let samples: [JSONValue] = [
        .null, .bool(true), .bool(false), .number(0), .number(-0.0), .number(42), .number(-7), .number(0.1), .number(-2.5e-8),
        .number(1e21), .number(9_007_199_254_740_991), .number(9_007_199_254_740_992), .number(123_456.789),
        .string(""), .string("plain"), .string("quote \" backslash \\ slash / end"), .string("tab\tnewline\nreturn\rbell\u{07}nul\u{0}"),
        .string("\u{08}\u{0C}\u{1F}\u{7F}"), .string("unicode é ✓ 😀 \u{2028}"),
        .array([]), .object([:]),
        .array([.number(1), .string("two"), .null, .array([.bool(true)]), .object(["k": .number(3)])]),
        .object([
            "b": .number(1), "a": .object(["z": .null, "y": .array([.string("x")])]), "B": .string("upper"), "é": .bool(false), "a_b": .number(2),
            "": .string("empty key"), "10": .number(10), "9": .number(9),
        ]),
    ]

    @Test("writes what JSONEncoder with sorted keys and unescaped slashes writes, byte for byte")
    func sameAsJSONEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for sample in Self.samples {
            let expected = String(decoding: try encoder.encode(sample), as: UTF8.self)
            #expect(String(decoding: sample.serialized(), as: UTF8.self) == expected, "\(sample)")
        }
        let nested = JSONValue.array(Self.samples)
        #expect(nested.serialized() == Array(try encoder.encode(nested)))
    }

    @Test("reads back as the same value")
    func roundTrip() throws {
        for sample in Self.samples {
            let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(sample.serialized()))
            if case .number(let value) = sample, value == 0 {
                #expect(decoded == .number(0))
                continue
            }
            #expect(decoded == sample, "\(sample)")
        }
    }
}
