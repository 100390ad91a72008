import Foundation
import SwitchyardCore
import Testing

@testable import SwitchyardWorkflows

/// The workflow expression language: the published JSON Logic suite, the operators it leaves out, the limits that
/// keep a tenant's rule from holding a shared executor, and validation without evaluation.
@Suite("JSON Logic")
struct JSONLogicTests {
    struct Case {
        let rule: JSONValue
        let data: JSONValue
        let expected: JSONValue
    }

    static func publishedCases() throws -> [Case] {
        let entries = try JSONDecoder().decode([JSONValue].self, from: Data(jsonLogicPublishedSuite.utf8))
        return entries.compactMap { entry in
            guard case .array(let triple) = entry, triple.count == 3 else { return nil }
            return Case(rule: triple[0], data: triple[1], expected: triple[2])
        }
    }

    static func json(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static func text(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
    }

    static func operators(in rule: JSONValue) -> Set<String> {
        switch rule {
        case .array(let elements): return elements.reduce(into: []) { $0.formUnion(operators(in: $1)) }
        case .object(let members) where members.count == 1:
            let (name, argument) = members.first!
            return operators(in: argument).union([name])
        default: return []
        }
    }

    /// What the suite does not exercise (`log`) and what it leaves to the implementation, with JavaScript's answers.
    static let additionalCases: [(rule: String, data: String, expected: String)] = [
        (#"{"log": "apple"}"#, "null", #""apple""#),
        (#"{"log": [{"+": [1, 2]}]}"#, "null", "3"),
        (#"{"cat": [1, 1.5, -0.25, 100, 1e21, 1e-7, true, null, [1, 2]]}"#, "null", #""11.5-0.251001e+211e-7true1,2""#),
        (#"{"cat": ["total: ", {"/": [10, 4]}]}"#, "null", #""total: 2.5""#),
        (#"{"var": ["a", "fallback"]}"#, #"{"a": null}"#, "null"),
        (#"{"var": "a.1.b"}"#, #"{"a": [{"b": 1}, {"b": 2}]}"#, "2"),
        (#"{"var": "a.01"}"#, #"{"a": [1, 2]}"#, "null"),
        (#"{"missing": ["a", "b"]}"#, #"{"a": "", "b": 0}"#, #"["a"]"#),
        (#"{"<": [1, {"var": "x"}, 10]}"#, #"{"x": 10}"#, "false"),
        (#"{"<=": [1, {"var": "x"}, 10]}"#, #"{"x": 10}"#, "true"),
        (#"{"==": [null, 0]}"#, "null", "false"),
        (#"{"==": [true, "1"]}"#, "null", "true"),
        (#"{"==": [[1], 1]}"#, "null", "true"),
        (#"{"==": ["", 0]}"#, "null", "true"),
        (#"{"===": [[1, {"a": 2, "b": 3}], [1, {"b": 3, "a": 2}]]}"#, "null", "true"),
        (#"{"<": ["a", "b"]}"#, "null", "true"),
        (#"{"<": ["10", "9"]}"#, "null", "true"),
        (#"{">": ["apple", 1]}"#, "null", "false"),
        (#"{"+": ["3px", " 2"]}"#, "null", "5"),
        (#"{"+": []}"#, "null", "0"),
        (#"{"-": ["3px", 1]}"#, "null", "null"),
        (#"{"/": [1, 0]}"#, "null", "null"),
        (#"{"%": [-7, 3]}"#, "null", "-1"),
        (#"{"max": [1, "5", 3]}"#, "null", "5"),
        (#"{"min": [1, "apple"]}"#, "null", "null"),
        (#"{"in": [1, ["1", 2]]}"#, "null", "false"),
        (#"{"in": ["", "abc"]}"#, "null", "true"),
        (#"{"in": ["a", null]}"#, "null", "false"),
        (#"{"substr": ["jsonlogic", 20]}"#, "null", #""""#),
        (#"{"substr": ["jsonlogic", 2, -20]}"#, "null", #""""#),
        (#"{"substr": ["h€llo 🙂!", -2, 1]}"#, "null", #""🙂""#),
        (#"{"and": [0, 1]}"#, "null", "0"),
        (#"{"map": [{"var": "xs"}, {"cat": [{"var": ""}, "!"]}]}"#, #"{"xs": ["a", "b"]}"#, #"["a!","b!"]"#),
        (#"{"all": [{"var": "nothing"}, true]}"#, "null", "false"),
        (#"{"none": [{"var": "nothing"}, true]}"#, "null", "true"),
        (#"{"some": [{"var": "nothing"}, true]}"#, "null", "false"),
        (#"{"a": 1, "b": {"var": "x"}}"#, "null", #"{"a":1,"b":{"var":"x"}}"#),
    ]

    @Test("every case of the published JSON Logic suite gives the spec's expected result")
    func publishedSuite() throws {
        let cases = try Self.publishedCases()
        #expect(cases.count == 278)
        var differing: [String] = []
        for testCase in cases {
            let rendered = "\(Self.text(testCase.rule)) over \(Self.text(testCase.data))"
            do {
                let result = try JSONLogic.evaluate(testCase.rule, data: testCase.data)
                if result != testCase.expected {
                    differing.append("\(rendered): got \(Self.text(result)), expected \(Self.text(testCase.expected))")
                }
            } catch {
                differing.append("\(rendered): threw \(error), expected \(Self.text(testCase.expected))")
            }
        }
        #expect(differing.isEmpty, "\(differing.count) of \(cases.count) cases differ:\n\(differing.joined(separator: "\n"))")
    }

    @Test("the operators the suite leaves out, and JavaScript's coercions, give JavaScript's answers")
    func additional() throws {
        var differing: [String] = []
        for (rule, data, expected) in Self.additionalCases {
            do {
                let result = try JSONLogic.evaluate(Self.json(rule), data: Self.json(data))
                if try result != Self.json(expected) { differing.append("\(rule) over \(data): got \(Self.text(result)), expected \(expected)") }
            } catch {
                differing.append("\(rule) over \(data): threw \(error)")
            }
        }
        #expect(differing.isEmpty, "\(differing.joined(separator: "\n"))")
    }

    @Test("every operator of the spec is exercised by the published suite or the additional cases, and validates")
    func everyOperatorCovered() throws {
        let rules = try Self.publishedCases().map(\.rule) + Self.additionalCases.map { try Self.json($0.rule) }
        let covered = rules.reduce(into: Set<String>()) { $0.formUnion(Self.operators(in: $1)) }
        let all = Set(Operator.allCases.map(\.rawValue))
        #expect(all.subtracting(covered).isEmpty, "not covered: \(all.subtracting(covered).sorted())")
        for rule in rules {
            #expect(throws: Never.self, "\(Self.text(rule))") { try JSONLogic.validate(rule) }
        }
    }

    @Test("numbers are written as JavaScript writes them")
    func numberFormatting() {
        let expected: [(Double, String)] = [
            (1, "1"), (1.5, "1.5"), (-2, "-2"), (0.1, "0.1"), (100, "100"), (-0.0, "0"), (1e21, "1e+21"),
            (1.2345678901234568e20, "123456789012345680000"), (1e-7, "1e-7"), (0.000001, "0.000001"),
            (1.5e-10, "1.5e-10"), (2.5e22, "2.5e+22"), (0.1 + 0.2, "0.30000000000000004"), (.nan, "NaN"),
        ]
        for (value, text) in expected {
            #expect(JavaScriptNumber.format(value) == text)
        }
    }

    @Test("a rule nested deeper than the limit is refused by validation and by evaluation")
    func deepNesting() throws {
        func nested(_ levels: Int) -> JSONValue {
            (0..<levels).reduce(JSONValue.bool(true)) { inner, _ in .object(["!!": inner]) }
        }
        #expect(try JSONLogic.evaluate(nested(64)) == .bool(true))
        #expect(throws: Never.self) { try JSONLogic.validate(nested(64)) }
        let evaluation = #expect(throws: JSONLogicError.self) { try JSONLogic.evaluate(nested(65)) }
        #expect(evaluation?.reason == .tooDeep(limit: 64))
        let validation = #expect(throws: JSONLogicError.self) { try JSONLogic.validate(nested(500)) }
        #expect(validation?.reason == .tooDeep(limit: 64))
        let arrays = (0..<100).reduce(JSONValue.null) { inner, _ in .array([inner]) }
        #expect(throws: JSONLogicError(.tooDeep(limit: 64), path: Array(repeating: "0", count: 64))) {
            try JSONLogic.evaluate(arrays)
        }
    }

    @Test("a huge map or reduce is stopped at the step limit")
    func stepLimit() throws {
        let data = JSONValue.object(["xs": .array((0..<60_000).map { .number(Double($0)) })])
        let map = try Self.json(#"{"map": [{"var": "xs"}, {"+": [{"var": ""}, 1]}]}"#)
        let mapped = #expect(throws: JSONLogicError.self) { try JSONLogic.evaluate(map, data: data) }
        #expect(mapped?.reason == .tooManySteps(limit: 100_000))
        #expect(mapped?.pointer.hasPrefix("/map") == true)
        let reduce = try Self.json(#"{"reduce": [{"var": "xs"}, {"+": [{"var": "accumulator"}, {"var": "current"}]}, 0]}"#)
        let reduced = #expect(throws: JSONLogicError.self) { try JSONLogic.evaluate(reduce, data: data) }
        #expect(reduced?.reason == .tooManySteps(limit: 100_000))
        // Within the limit the same rule answers.
        let small = JSONValue.object(["xs": .array((0..<1_000).map { .number(Double($0)) })])
        #expect(try JSONLogic.evaluate(reduce, data: small) == .number(499_500))
        // Nested iteration multiplies: 400 x 400 iterations.
        let nested = try Self.json(#"{"map": [{"var": "xs"}, {"map": [{"var": "xs"}, 1]}]}"#)
        let square = JSONValue.object(["xs": .array((0..<400).map { _ in .object(["xs": .array(Array(repeating: .null, count: 400))]) })])
        #expect(throws: JSONLogicError.self) { try JSONLogic.evaluate(nested, data: square) }
    }

    @Test("a cat, merge or array that doubles in a reduce is stopped at the output limit")
    func outputLimit() throws {
        let data = JSONValue.object(["xs": .array(Array(repeating: .null, count: 40))])
        for body in [
            #"{"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}"#,
            #"{"merge": [{"var": "accumulator"}, {"var": "accumulator"}]}"#,
            #"[{"var": "accumulator"}, {"var": "accumulator"}]"#,
        ] {
            let rule = try Self.json(#"{"reduce": [{"var": "xs"}, \#(body), ["seed"]]}"#)
            let error = #expect(throws: JSONLogicError.self, "\(body)") { try JSONLogic.evaluate(rule, data: data) }
            #expect(error?.reason == .outputTooLarge(limit: 1 << 20), "\(body)")
            #expect(error?.pointer.hasPrefix("/reduce/1") == true, "\(body)")
        }
        // Wrapping the accumulator once per iteration builds a value too deep to walk, though small.
        let wrapping = try Self.json(#"{"reduce": [{"var": "xs"}, [{"var": "accumulator"}], 0]}"#)
        let thousand = JSONValue.object(["xs": .array(Array(repeating: .null, count: 1_000))])
        let deep = #expect(throws: JSONLogicError.self) { try JSONLogic.evaluate(wrapping, data: thousand) }
        #expect(deep?.reason == .outputTooDeep(limit: 256))
        let limits = JSONLogic.Limits(maxOutputBytes: 10)
        #expect(throws: JSONLogicError.self) { try JSONLogic.evaluate(Self.json(#"{"cat": ["12345", "678901"]}"#), limits: limits) }
        #expect(try JSONLogic.evaluate(Self.json(#"{"cat": ["12345", "67890"]}"#), limits: limits) == .string("1234567890"))
    }

    @Test("validation names an unknown operator and a wrong argument count with their place in the rule")
    func validation() throws {
        let unknown = try Self.json(#"{"and": [true, {"if": [{"frobnicate": [1]}, 1]}]}"#)
        #expect(throws: JSONLogicError(.unknownOperator("frobnicate"), path: ["and", "1", "if", "0", "frobnicate"])) {
            try JSONLogic.validate(unknown)
        }
        let error = #expect(throws: JSONLogicError.self) { try JSONLogic.validate(unknown) }
        #expect(error?.pointer == "/and/1/if/0/frobnicate")
        #expect(error?.description == #"/and/1/if/0/frobnicate: unknown operator "frobnicate""#)
        // Evaluation refuses it too, once it gets there.
        #expect(throws: JSONLogicError.self) { try JSONLogic.evaluate(unknown) }
        // An unknown operator behind a branch not taken is still found by validation.
        #expect(try JSONLogic.evaluate(Self.json(#"{"if": [false, {"nope": 1}, 2]}"#)) == .number(2))
        #expect(throws: JSONLogicError.self) { try JSONLogic.validate(Self.json(#"{"if": [false, {"nope": 1}, 2]}"#)) }

        let bare = try Self.json(#"{"!": {"a/b": 1}}"#)
        let bareError = #expect(throws: JSONLogicError.self) { try JSONLogic.validate(bare) }
        #expect(bareError?.pointer == "/!/a~1b")

        for (rule, pointer, reason) in [
            (#"{"==": [1]}"#, "/==", JSONLogicError.Reason.argumentCount(operator: "==", expected: "2", given: 1)),
            (#"{"map": [{"var": "xs"}, {"substr": ["a"]}]}"#, "/map/1/substr", .argumentCount(operator: "substr", expected: "2 to 3", given: 1)),
            (#"{"*": []}"#, "/*", .argumentCount(operator: "*", expected: "at least 1", given: 0)),
            (#"{">": [1, 2, 3]}"#, "/>", .argumentCount(operator: ">", expected: "2", given: 3)),
        ] {
            let error = #expect(throws: JSONLogicError.self, "\(rule)") { try JSONLogic.validate(Self.json(rule)) }
            #expect(error?.pointer == pointer, "\(rule)")
            #expect(error?.reason == reason, "\(rule)")
        }
    }
}
