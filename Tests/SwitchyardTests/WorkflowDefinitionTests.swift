import Foundation
import SwitchyardCore
import SwitchyardTestSupport
import SwitchyardWorkflows
import Testing

@Suite("Workflow definitions: read and checked whole, refused naming the step and field (issue 16)")
struct WorkflowDefinitionTests {
    static func parse(_ text: String) throws -> WorkflowDefinition {
        try WorkflowDefinition.parse(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))
    }

    static func refusal(_ text: String) throws -> WorkflowDefinitionError {
        do {
            _ = try parse(text)
        } catch let error as WorkflowDefinitionError {
            return error
        }
        throw TestFailure("the definition was accepted: \(text)")
    }

    static let integration = "0191d3a0-0000-7000-8000-000000000001"

    @Test("every step type, an event trigger and limits are read")
    func readsEverything() throws {
        let definition = try Self.parse(
            """
            {"trigger": {"type": "event", "event_types": ["webhook.received", "records.*"], "condition": {"==": [{"var": "event.data.provider"}, "github"]}},
             "limits": {"max_concurrent_runs": 5, "max_steps": 50},
             "steps": [
               {"id": "only", "type": "filter", "condition": {"!!": [{"var": "trigger.event.data"}]}},
               {"id": "shape", "type": "map", "template": {"a": {"var": "steps.only.passed"}, "b": [1, {"cat": ["x", "y"]}]}},
               {"id": "call", "type": "http", "integration_id": "\(Self.integration)", "method": "POST", "path": {"cat": ["/items/", {"var": "steps.shape.a"}]},
                "accept_statuses": [409], "retry": {"max_attempts": 5, "backoff_seconds": 1}, "if": {"var": "input.go"}},
               {"id": "send", "type": "deliver", "destination_id": "\(Self.integration)", "body": {"var": "steps.call.body"}},
               {"id": "refresh", "type": "sync", "integration_id": "\(Self.integration)", "sync": "items", "wait": true},
               {"id": "pause", "type": "delay", "seconds": 3600},
               {"id": "each", "type": "for_each", "items": {"var": "steps.call.body.items"}, "max_items": 10, "steps": [
                 {"id": "inner", "type": "map", "template": {"item": {"var": "item"}, "shape": {"var": "steps.shape"}}}
               ]}
             ]}
            """
        )
        #expect(definition.trigger.eventTypes == ["webhook.received", "records.*"])
        #expect(definition.limits.maxConcurrentRuns == 5 && definition.limits.maxSteps == 50)
        #expect(definition.steps.map(\.typeName) == ["filter", "map", "http", "deliver", "sync", "delay", "for_each"])
        #expect(definition.allSteps.map(\.step.id) == ["only", "shape", "call", "send", "refresh", "pause", "each", "inner"])
        #expect(definition.steps[2].retry == WorkflowRetryPolicy(maxAttempts: 5, backoffSeconds: 1))
        #expect(try Self.parse(#"{"steps": [{"id": "a", "type": "map", "template": {}}]}"#).trigger == .manual)
    }

    @Test(
        "refusals name the step and the field",
        arguments: [
            (
                #"{"steps": [{"id": "a", "type": "teleport"}]}"#,
                "Step 'a' (/steps/0/type), field 'type': unknown step type 'teleport': filter, map, http, deliver, sync, delay or for_each"
            ),
            (
                #"{"steps": [{"id": "a", "type": "map", "template": {"x": {"var": "steps.b.value"}}}, {"id": "b", "type": "map", "template": {}}]}"#,
                "Step 'a' (/steps/0/template), field 'template': 'steps.b' is not a step before this one"
            ),
            (
                #"{"steps": [{"id": "a", "type": "filter", "condition": {"var": "steps.ghost"}}, {"id": "b", "type": "map", "template": {}}]}"#,
                "Step 'a' (/steps/0/condition), field 'condition': 'steps.ghost' names no step"
            ),
            (
                #"{"steps": [{"id": "a", "type": "map", "template": {}}, {"id": "b", "type": "filter", "condition": {"frobnicate": [1]}}]}"#,
                #"Step 'b' (/steps/1/condition), field 'condition': the expression does not parse: /frobnicate: unknown operator "frobnicate""#
            ),
            (
                #"{"steps": [{"id": "a", "type": "map", "template": {"x": {"==": [1]}}}]}"#,
                #"Step 'a' (/steps/0/template), field 'template': the expression does not parse: /x/==: "==" takes 2 argument(s), given 1"#
            ),
            (
                #"{"steps": [{"id": "a", "type": "map", "template": {}}, {"id": "a", "type": "map", "template": {}}]}"#,
                "Step 'a' (/steps/1/id), field 'id': another step has this id"
            ),
            (
                #"{"steps": [{"id": "a", "type": "map", "template": {}, "colour": "red"}]}"#,
                "Step 'a' (/steps/0/colour), field 'colour': unknown field"
            ),
            (
                #"{"steps": [{"id": "a", "type": "http", "integration_id": "nope", "method": "GET", "path": "/x"}]}"#,
                "Step 'a' (/steps/0/integration_id), field 'integration_id': an id (UUID) is required"
            ),
            (
                #"{"steps": [{"id": "a", "type": "delay", "seconds": 0}]}"#,
                "Step 'a' (/steps/0/seconds), field 'seconds': an integer from 1 to 2592000 (30 days)"
            ),
            (
                #"{"steps": [{"id": "a", "type": "for_each", "items": [], "max_items": 5000, "steps": [{"id": "b", "type": "map", "template": {}}]}]}"#,
                "Step 'a' (/steps/0/max_items), field 'max_items': an integer from 1 to 1000"
            ),
            (
                #"{"steps": [{"id": "a", "type": "for_each", "items": [], "steps": [{"id": "b", "type": "map", "template": {"x": {"var": "steps.c"}}}, {"id": "c", "type": "map", "template": {}}]}]}"#,
                "Step 'b' (/steps/0/steps/0/template), field 'template': 'steps.c' is not a step before this one"
            ),
            (
                #"{"steps": [{"id": "a", "type": "map", "template": {"x": {"var": "steps.a"}}}]}"#,
                "Step 'a' (/steps/0/template), field 'template': a step cannot read its own output ('steps.a')"
            ),
            (
                #"{"trigger": {"type": "event", "event_types": ["workflow.run.failed"]}, "steps": [{"id": "a", "type": "map", "template": {}}]}"#,
                "Field 'trigger.event_types' (/trigger/event_types/0): workflow events cannot start workflows"
            ),
            (
                #"{"trigger": {"type": "event", "event_types": ["webhook.received"], "condition": {"nope": 1}}, "steps": [{"id": "a", "type": "map", "template": {}}]}"#,
                #"Field 'trigger.condition' (/trigger/condition): the expression does not parse: /nope: unknown operator "nope""#
            ),
            (#"{"steps": []}"#, "Field 'steps' (/steps): a workflow has at least one step"),
        ]
    )
    func refusals(definition: String, message: String) throws {
        let error = try Self.refusal(definition)
        #expect(error.description == message)
        #expect(error.switchyardError.kind == .unprocessable)
    }

    @Test("a template keeps literal objects and arrays and replaces expressions by their values")
    func templates() throws {
        let template = try JSONDecoder().decode(
            JSONValue.self,
            from: Data(#"{"name": {"var": "a"}, "nested": {"list": [{"+": [1, 2]}, "x"], "two": {"k": 1, "j": 2}}, "n": null}"#.utf8)
        )
        let value = try WorkflowTemplate.evaluate(template, data: .object(["a": .string("A")]))
        #expect(
            value
                == .object([
                    "name": .string("A"),
                    "nested": .object(["list": .array([.number(3), .string("x")]), "two": .object(["k": .number(1), "j": .number(2)])]),
                    "n": .null,
                ])
        )
    }
}
