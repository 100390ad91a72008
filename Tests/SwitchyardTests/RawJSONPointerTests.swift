import NIOCore
import Testing

@testable import SwitchyardSyncs

/// The scan that guesses a page's next cursor before PostgreSQL has parsed the page: it answers what `#>>` would,
/// or nothing.
@Suite("Raw JSON pointer scan")
struct RawJSONPointerTests {
    func value(_ pointer: [String], _ json: String) -> RawJSONPointer.Value? {
        RawJSONPointer.value(at: pointer, in: ByteBuffer(string: json))
    }

    @Test("reads a string, a plain integer, a boolean or nothing past records it does not parse")
    func reads() {
        let page = #"{"data":[{"id":1,"note":"a \"quoted\" ] } , note"},[2,{"x":[]}]],"next_cursor":"c2", "has_more" : true,"n":-42,"z":null}"#
        #expect(value(["next_cursor"], page) == .text("c2"))
        #expect(value(["has_more"], page) == .bool(true))
        #expect(value(["n"], page) == .text("-42"))
        #expect(value(["z"], page) == .absent)
        #expect(value(["missing"], page) == .absent)
        #expect(value(["n", "deeper"], page) == .absent)
        #expect(value(["data"], page) == .container)
        #expect(value(["meta", "next"], #"{"meta":{"next":"https://example.com/p2"}}"#) == .text("https://example.com/p2"))
        #expect(value([], "  7 ") == .text("7"))
    }

    @Test("the last of duplicate keys counts, as in jsonb")
    func duplicateKeys() {
        #expect(value(["next"], #"{"next":"a","next":"b"}"#) == .text("b"))
    }

    @Test("what it cannot read exactly is left to PostgreSQL: escapes, other numbers, arrays on the way, malformed JSON")
    func declines() {
        #expect(value(["c"], #"{"c":"a\/b"}"#) == nil)
        #expect(value(["c"], #"{"c":1.0}"#) == nil)
        #expect(value(["c"], #"{"c":1e3}"#) == nil)
        #expect(value(["c"], #"{"c":007}"#) == nil)
        #expect(value(["data", "0"], #"{"data":["a"]}"#) == nil)
        #expect(value(["c"], #"{"c":"x""#) == nil)
        #expect(value(["c"], #"{"c":"x"} trailing"#) == nil)
        #expect(value(["c"], #"{"c" "x"}"#) == nil)
    }
}
