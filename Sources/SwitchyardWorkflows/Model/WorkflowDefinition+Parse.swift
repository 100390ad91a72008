import Foundation
import SwitchyardCore

/// Why a definition was refused: the step (its id, when it has a readable one) and the field, and where in the
/// document (an RFC 6901 pointer). The API answers it as a 422.
public struct WorkflowDefinitionError: Error, Sendable, Equatable, CustomStringConvertible, SwitchyardErrorConvertible {
    /// The step's id, or nil for a field outside the steps (the trigger, the limits).
    public var step: String?
    /// The field at fault (`integration_id`, `template/amount`, `trigger.condition`).
    public var field: String
    public var pointer: String
    public var message: String

    public init(step: String?, field: String, pointer: String, message: String) {
        self.step = step
        self.field = field
        self.pointer = pointer
        self.message = message
    }

    public var description: String {
        if let step { return "Step '\(step)' (\(pointer)), field '\(field)': \(message)" }
        return "Field '\(field)' (\(pointer)): \(message)"
    }

    public var switchyardError: SwitchyardError { .validation(description) }
}

extension WorkflowDefinition {
    static var stepIDPattern: Regex<Substring> { /[a-z][a-z0-9_]{0,62}/ }
    static var eventTypePattern: Regex<Substring> { /\*|[a-z_]+(?:\.[a-z_]+)*(?:\.\*)?/ }
    static let maxStepCount = 200
    static let maxNesting = 3
    static let methods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    /// Reads and checks a whole definition: known step types and fields, unique step ids, expressions that parse,
    /// and references to steps that exist and come earlier. Whether its integrations and destinations are the
    /// tenant's is `WorkflowDefinition.checkReferences`'s to say.
    public static func parse(_ json: JSONValue) throws(WorkflowDefinitionError) -> WorkflowDefinition {
        guard case .object(let members) = json else {
            throw WorkflowDefinitionError(step: nil, field: "", pointer: "", message: "the definition must be an object")
        }
        var parser = Parser(everyID: Self.stepIDs(in: members["steps"]))
        try parser.only(members, ["trigger", "steps", "limits"], step: nil, at: "")
        let trigger = try parser.trigger(members["trigger"])
        let limits = try parser.limits(members["limits"])
        guard case .array(let steps)? = members["steps"] else { throw parser.fail(nil, "steps", "an array of steps is required", at: "/steps") }
        guard !steps.isEmpty else { throw parser.fail(nil, "steps", "a workflow has at least one step", at: "/steps") }
        var visible: Set<String> = []
        let parsed = try parser.steps(steps, at: "/steps", depth: 0, visible: &visible, scope: [])
        return WorkflowDefinition(trigger: trigger, steps: parsed, limits: limits, json: json)
    }

    /// The ids of the steps in a raw step list, nested ones included, for telling a later step from a missing one.
    private static func stepIDs(in steps: JSONValue?) -> Set<String> {
        guard case .array(let elements)? = steps else { return [] }
        var ids: Set<String> = []
        for case .object(let step) in elements {
            if case .string(let id)? = step["id"] { ids.insert(id) }
            ids.formUnion(stepIDs(in: step["steps"]))
        }
        return ids
    }

    /// Every step, nested ones included, in definition order.
    public var allSteps: [(step: WorkflowStep, pointer: String)] {
        func walk(_ steps: [WorkflowStep], _ at: String) -> [(step: WorkflowStep, pointer: String)] {
            steps.enumerated().flatMap { index, step -> [(step: WorkflowStep, pointer: String)] in
                let pointer = "\(at)/\(index)"
                if case .forEach(_, _, let nested) = step.action { return [(step, pointer)] + walk(nested, pointer + "/steps") }
                return [(step, pointer)]
            }
        }
        return walk(steps, "/steps")
    }

    /// Checks that the integrations and destinations the steps name exist for the tenant (`exists` answers within
    /// the tenant's view, so another tenant's id does not).
    public func checkReferences(
        integration: (UUID) async throws -> Bool,
        destination: (UUID) async throws -> Bool
    ) async throws {
        for (step, pointer) in allSteps {
            switch step.action {
            case .http(let call):
                if try await !integration(call.integrationID) {
                    throw WorkflowDefinitionError(
                        step: step.id,
                        field: "integration_id",
                        pointer: pointer + "/integration_id",
                        message: "no such integration"
                    )
                }
            case .sync(let integrationID, _, _):
                if try await !integration(integrationID) {
                    throw WorkflowDefinitionError(
                        step: step.id,
                        field: "integration_id",
                        pointer: pointer + "/integration_id",
                        message: "no such integration"
                    )
                }
            case .deliver(let destinationID, _):
                if try await !destination(destinationID) {
                    throw WorkflowDefinitionError(
                        step: step.id,
                        field: "destination_id",
                        pointer: pointer + "/destination_id",
                        message: "no such destination"
                    )
                }
            default: break
            }
        }
    }
}

private struct Parser {
    /// Every step id in the document, read before the steps are.
    let everyID: Set<String>
    var seen: Set<String> = []
    var count = 0

    func fail(_ step: String?, _ field: String, _ message: String, at pointer: String? = nil) -> WorkflowDefinitionError {
        WorkflowDefinitionError(step: step, field: field, pointer: pointer ?? "/" + field, message: message)
    }

    func only(_ members: [String: JSONValue], _ allowed: Set<String>, step: String?, at pointer: String) throws(WorkflowDefinitionError) {
        if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw fail(step, unknown, "unknown field", at: pointer + "/" + WorkflowTemplate.escape(unknown))
        }
    }

    func expression(_ value: JSONValue, step: String?, field: String, at pointer: String, template: Bool = false) throws(WorkflowDefinitionError) {
        do {
            if template { try WorkflowTemplate.validate(value) } else { try JSONLogic.validate(value) }
        } catch {
            throw fail(step, field, "the expression does not parse: \(error)", at: pointer)
        }
    }

    mutating func trigger(_ value: JSONValue?) throws(WorkflowDefinitionError) -> WorkflowTrigger {
        guard let value else { return .manual }
        guard case .object(let members) = value, case .string(let type)? = members["type"] else {
            throw fail(nil, "trigger.type", "the trigger is an object with a type: manual, event or schedule", at: "/trigger/type")
        }
        switch type {
        case "manual":
            try only(members, ["type"], step: nil, at: "/trigger")
            return .manual
        case "event":
            try only(members, ["type", "event_types", "condition"], step: nil, at: "/trigger")
            guard case .array(let patterns)? = members["event_types"], !patterns.isEmpty, patterns.count <= 20 else {
                throw fail(nil, "trigger.event_types", "1 to 20 event types are required", at: "/trigger/event_types")
            }
            var types: [String] = []
            for (index, pattern) in patterns.enumerated() {
                guard case .string(let text) = pattern, text.wholeMatch(of: WorkflowDefinition.eventTypePattern) != nil else {
                    throw fail(nil, "trigger.event_types", "an event type, `prefix.*` or `*`", at: "/trigger/event_types/\(index)")
                }
                if text.hasPrefix("workflow.") {
                    throw fail(nil, "trigger.event_types", "workflow events cannot start workflows", at: "/trigger/event_types/\(index)")
                }
                types.append(text)
            }
            if let condition = members["condition"] { try expression(condition, step: nil, field: "trigger.condition", at: "/trigger/condition") }
            return .event(eventTypes: types, condition: members["condition"])
        case "schedule":
            try only(members, ["type", "interval_seconds", "cron"], step: nil, at: "/trigger")
            let interval = members["interval_seconds"]
            let cron = members["cron"]
            switch (interval, cron) {
            case (.number(let seconds)?, nil) where seconds.rounded() == seconds && seconds >= 60 && seconds <= 31_622_400:
                return .schedule(intervalSeconds: Int(seconds), cron: nil)
            case (nil, .string(let expression)?) where (9...200).contains(expression.count):
                return .schedule(intervalSeconds: nil, cron: expression)
            default:
                throw fail(nil, "trigger.interval_seconds", "either interval_seconds (60 to 31622400) or a cron expression", at: "/trigger")
            }
        default:
            throw fail(nil, "trigger.type", "unknown trigger type '\(type)': manual, event or schedule", at: "/trigger/type")
        }
    }

    func limits(_ value: JSONValue?) throws(WorkflowDefinitionError) -> WorkflowRunLimits {
        var limits = WorkflowRunLimits()
        guard let value else { return limits }
        guard case .object(let members) = value else { throw fail(nil, "limits", "an object", at: "/limits") }
        try only(members, ["max_concurrent_runs", "max_steps", "max_duration_seconds"], step: nil, at: "/limits")
        func integer(_ name: String, _ range: ClosedRange<Int>) throws(WorkflowDefinitionError) -> Int? {
            guard let member = members[name] else { return nil }
            guard case .number(let number) = member, number.rounded() == number, range.contains(Int(number)) else {
                throw fail(nil, "limits.\(name)", "an integer from \(range.lowerBound) to \(range.upperBound)", at: "/limits/\(name)")
            }
            return Int(number)
        }
        let ceiling = WorkflowRunLimits.ceiling
        if let value = try integer("max_concurrent_runs", 1...ceiling.maxConcurrentRuns) { limits.maxConcurrentRuns = value }
        if let value = try integer("max_steps", 1...ceiling.maxSteps) { limits.maxSteps = value }
        if let value = try integer("max_duration_seconds", 1...ceiling.maxDurationSeconds) { limits.maxDurationSeconds = value }
        return limits
    }

    /// `visible`: the ids of the steps before this list (enclosing lists included) that its steps may read.
    mutating func steps(
        _ values: [JSONValue],
        at pointer: String,
        depth: Int,
        visible: inout Set<String>,
        scope: [String]
    ) throws(WorkflowDefinitionError) -> [WorkflowStep] {
        var steps: [WorkflowStep] = []
        for (index, value) in values.enumerated() {
            let at = "\(pointer)/\(index)"
            count += 1
            guard count <= WorkflowDefinition.maxStepCount else {
                throw fail(nil, "steps", "more than \(WorkflowDefinition.maxStepCount) steps", at: at)
            }
            let step = try self.step(value, at: at, depth: depth, visible: visible, scope: scope)
            visible.insert(step.id)
            steps.append(step)
        }
        return steps
    }

    mutating func step(
        _ value: JSONValue,
        at pointer: String,
        depth: Int,
        visible: Set<String>,
        scope: [String]
    ) throws(WorkflowDefinitionError) -> WorkflowStep {
        guard case .object(let members) = value else { throw fail(nil, "steps", "a step is an object", at: pointer) }
        guard case .string(let id)? = members["id"], id.wholeMatch(of: WorkflowDefinition.stepIDPattern) != nil else {
            throw fail(nil, "id", "every step has an id: a lower-case letter, then up to 62 letters, digits or _", at: pointer + "/id")
        }
        guard !seen.contains(id) else { throw fail(id, "id", "another step has this id", at: pointer + "/id") }
        seen.insert(id)
        guard case .string(let type)? = members["type"] else { throw fail(id, "type", "the step's type is required", at: pointer + "/type") }
        let common: Set<String> = ["id", "type", "if", "retry"]
        func require(_ name: String) throws(WorkflowDefinitionError) -> JSONValue {
            guard let member = members[name] else { throw fail(id, name, "required for a \(type) step", at: pointer + "/" + name) }
            return member
        }
        func uuid(_ name: String) throws(WorkflowDefinitionError) -> UUID {
            guard case .string(let text) = try require(name), let uuid = UUID(uuidString: text) else {
                throw fail(id, name, "an id (UUID) is required", at: pointer + "/" + name)
            }
            return uuid
        }
        /// An expression or template field: it parses, and the steps it reads exist and come earlier.
        func checked(_ name: String, _ member: JSONValue, template: Bool) throws(WorkflowDefinitionError) -> JSONValue {
            try expression(member, step: id, field: name, at: pointer + "/" + name, template: template)
            for path in WorkflowTemplate.variablePaths(in: member, expression: !template) where path.first == "steps" && path.count > 1 {
                let target = path[1]
                if target == id { throw fail(id, name, "a step cannot read its own output ('steps.\(target)')", at: pointer + "/" + name) }
                guard visible.contains(target) || scope.contains(target) else {
                    let exists = everyID.contains(target)
                    throw fail(
                        id,
                        name,
                        exists ? "'steps.\(target)' is not a step before this one" : "'steps.\(target)' names no step",
                        at: pointer + "/" + name
                    )
                }
            }
            return member
        }

        let condition = try members["if"].map { (member) throws(WorkflowDefinitionError) in try checked("if", member, template: false) }
        var retry = WorkflowRetryPolicy()
        if let member = members["retry"] {
            guard case .object(let fields) = member else { throw fail(id, "retry", "an object", at: pointer + "/retry") }
            try only(fields, ["max_attempts", "backoff_seconds"], step: id, at: pointer + "/retry")
            if let attempts = fields["max_attempts"] {
                guard case .number(let n) = attempts, n.rounded() == n, (1...10).contains(n) else {
                    throw fail(id, "retry.max_attempts", "an integer from 1 to 10", at: pointer + "/retry/max_attempts")
                }
                retry.maxAttempts = Int(n)
            }
            if let backoff = fields["backoff_seconds"] {
                guard case .number(let n) = backoff, (0...3600).contains(n) else {
                    throw fail(id, "retry.backoff_seconds", "a number of seconds from 0 to 3600", at: pointer + "/retry/backoff_seconds")
                }
                retry.backoffSeconds = n
            }
        }

        let action: WorkflowStep.Action
        switch type {
        case "filter":
            try only(members, common.union(["condition"]), step: id, at: pointer)
            action = .filter(condition: try checked("condition", try require("condition"), template: false))
        case "map":
            try only(members, common.union(["template"]), step: id, at: pointer)
            action = .map(template: try checked("template", try require("template"), template: true))
        case "http":
            try only(
                members,
                common.union(["integration_id", "method", "path", "query", "headers", "body", "accept_statuses"]),
                step: id,
                at: pointer
            )
            let integration = try uuid("integration_id")
            guard case .string(let method)? = members["method"], WorkflowDefinition.methods.contains(method) else {
                throw fail(id, "method", "one of GET, POST, PUT, PATCH, DELETE", at: pointer + "/method")
            }
            let path = try checked("path", try require("path"), template: true)
            if case .string(let literal) = path, !literal.hasPrefix("/") {
                throw fail(id, "path", "a path starts with /", at: pointer + "/path")
            }
            var accepted: [Int] = []
            if let statuses = members["accept_statuses"] {
                guard case .array(let values) = statuses, values.count <= 20 else {
                    throw fail(id, "accept_statuses", "an array of HTTP statuses", at: pointer + "/accept_statuses")
                }
                for value in values {
                    guard case .number(let n) = value, n.rounded() == n, (100...599).contains(n) else {
                        throw fail(id, "accept_statuses", "an array of HTTP statuses (100 to 599)", at: pointer + "/accept_statuses")
                    }
                    accepted.append(Int(n))
                }
            }
            action = .http(
                WorkflowStep.HTTPCall(
                    integrationID: integration,
                    method: method,
                    path: path,
                    query: try members["query"].map { (member) throws(WorkflowDefinitionError) in try checked("query", member, template: true) },
                    headers: try members["headers"].map { (member) throws(WorkflowDefinitionError) in try checked("headers", member, template: true)
                    },
                    body: try members["body"].map { (member) throws(WorkflowDefinitionError) in try checked("body", member, template: true) },
                    acceptStatuses: accepted
                )
            )
        case "deliver":
            try only(members, common.union(["destination_id", "body"]), step: id, at: pointer)
            action = .deliver(destinationID: try uuid("destination_id"), body: try checked("body", try require("body"), template: true))
        case "sync":
            try only(members, common.union(["integration_id", "sync", "wait"]), step: id, at: pointer)
            let integration = try uuid("integration_id")
            guard case .string(let name) = try require("sync"), (1...100).contains(name.count) else {
                throw fail(id, "sync", "the name of one of the integration's syncs", at: pointer + "/sync")
            }
            var wait = false
            if let member = members["wait"] {
                guard case .bool(let flag) = member else { throw fail(id, "wait", "true or false", at: pointer + "/wait") }
                wait = flag
            }
            action = .sync(integrationID: integration, sync: name, wait: wait)
        case "delay":
            try only(members, common.union(["seconds"]), step: id, at: pointer)
            guard case .number(let seconds) = try require("seconds"), seconds.rounded() == seconds, (1...(30 * 86_400)).contains(seconds) else {
                throw fail(id, "seconds", "an integer from 1 to 2592000 (30 days)", at: pointer + "/seconds")
            }
            action = .delay(seconds: Int(seconds))
        case "for_each":
            try only(members, common.union(["items", "max_items", "steps"]), step: id, at: pointer)
            guard depth < WorkflowDefinition.maxNesting else {
                throw fail(id, "type", "for_each nests at most \(WorkflowDefinition.maxNesting) deep", at: pointer + "/type")
            }
            let items = try checked("items", try require("items"), template: false)
            var maxItems = 100
            if let member = members["max_items"] {
                guard case .number(let n) = member, n.rounded() == n, (1...1000).contains(n) else {
                    throw fail(id, "max_items", "an integer from 1 to 1000", at: pointer + "/max_items")
                }
                maxItems = Int(n)
            }
            guard case .array(let nested) = try require("steps"), !nested.isEmpty else {
                throw fail(id, "steps", "a non-empty array of steps", at: pointer + "/steps")
            }
            var inner = visible
            let parsed = try steps(nested, at: pointer + "/steps", depth: depth + 1, visible: &inner, scope: scope)
            action = .forEach(items: items, maxItems: maxItems, steps: parsed)
        default:
            throw fail(id, "type", "unknown step type '\(type)': filter, map, http, deliver, sync, delay or for_each", at: pointer + "/type")
        }
        return WorkflowStep(id: id, condition: condition, retry: retry, action: action)
    }
}
