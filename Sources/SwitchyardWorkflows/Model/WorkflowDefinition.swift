import Foundation
import SwitchyardCore

/// A workflow's published definition: what starts it and the ordered steps it runs. Stored as the JSON the tenant
/// sent (`json`), read into this model by `WorkflowDefinition.parse`, which refuses a definition naming the step and
/// the field at fault.
public struct WorkflowDefinition: Sendable, Equatable {
    public var trigger: WorkflowTrigger
    public var steps: [WorkflowStep]
    public var limits: WorkflowRunLimits
    /// The document as sent, which is what a version stores.
    public var json: JSONValue
}

/// What starts runs besides `POST /v1/workflows/{id}/runs`, which starts any workflow.
public enum WorkflowTrigger: Sendable, Equatable {
    /// Manual runs only.
    case manual
    /// Each recorded event of one of `eventTypes` (exact, `prefix.*` or `*`; never `workflow.*` events, so a
    /// workflow cannot start itself) for which `condition` (JSON Logic over `{"event": ...}`) is truthy.
    case event(eventTypes: [String], condition: JSONValue?)
    /// A recurring schedule: every `intervalSeconds`, or a five-field cron expression (UTC).
    case schedule(intervalSeconds: Int?, cron: String?)

    /// The event patterns that start the workflow (empty unless triggered by events).
    public var eventTypes: [String] {
        if case .event(let types, _) = self { return types }
        return []
    }
}

/// The bounds of one run: a definition may lower them, never raise them above `WorkflowRunLimits.ceiling`.
public struct WorkflowRunLimits: Sendable, Equatable {
    /// Runs of the workflow running or waiting at once; more wait in the queue.
    public var maxConcurrentRuns: Int
    /// Steps executed in one run, each iteration's nested steps included.
    public var maxSteps: Int
    /// From the run's start to its end, delays included.
    public var maxDurationSeconds: Int

    public init(maxConcurrentRuns: Int = 100, maxSteps: Int = 1_000, maxDurationSeconds: Int = 30 * 86_400) {
        self.maxConcurrentRuns = maxConcurrentRuns
        self.maxSteps = maxSteps
        self.maxDurationSeconds = maxDurationSeconds
    }

    public static let ceiling = WorkflowRunLimits(maxConcurrentRuns: 1_000, maxSteps: 10_000, maxDurationSeconds: 90 * 86_400)
}

/// One step of a definition.
public struct WorkflowStep: Sendable, Equatable {
    /// Unique within the whole definition; later steps read this step's output as `steps.<id>`.
    public var id: String
    /// JSON Logic: when given and falsy, the step is skipped.
    public var condition: JSONValue?
    public var retry: WorkflowRetryPolicy
    public var action: Action

    public enum Action: Sendable, Equatable {
        /// Stops the run as skipped when the condition is falsy (inside a `for_each`, stops that iteration).
        case filter(condition: JSONValue)
        /// A JSON template whose leaves may be expressions; its value is the step's output.
        case map(template: JSONValue)
        /// A call to a provider's API through an integration.
        case http(HTTPCall)
        /// A document to one of the tenant's destinations.
        case deliver(destinationID: UUID, body: JSONValue)
        /// A run of one of the integration's syncs, optionally waited for.
        case sync(integrationID: UUID, sync: String, wait: Bool)
        /// A durable wait: the run's job is due again after it and no executor is held meanwhile.
        case delay(seconds: Int)
        /// The nested steps once per element of the array `items` evaluates to (at most `maxItems`).
        case forEach(items: JSONValue, maxItems: Int, steps: [WorkflowStep])
    }

    public struct HTTPCall: Sendable, Equatable {
        public var integrationID: UUID
        public var method: String
        /// A template: a string, or an expression giving one; appended to the provider's API base URL.
        public var path: JSONValue
        /// A template giving an object of names to values.
        public var query: JSONValue?
        /// A template giving an object of names to string values.
        public var headers: JSONValue?
        /// A template whose value is sent as JSON.
        public var body: JSONValue?
        /// Statuses besides 2xx that count as success.
        public var acceptStatuses: [Int]
    }

    public var typeName: String {
        switch action {
        case .filter: "filter"
        case .map: "map"
        case .http: "http"
        case .deliver: "deliver"
        case .sync: "sync"
        case .delay: "delay"
        case .forEach: "for_each"
        }
    }

    /// Whether the step has effects outside the run (its result is written before the run goes on).
    public var hasEffects: Bool {
        switch action {
        case .filter, .map, .forEach: false
        case .http, .deliver, .sync, .delay: true
        }
    }
}

/// How often a failing step is tried, and the wait before each retry: `backoffSeconds`, doubled after each attempt.
public struct WorkflowRetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var backoffSeconds: Double

    public init(maxAttempts: Int = 3, backoffSeconds: Double = 5) {
        self.maxAttempts = maxAttempts
        self.backoffSeconds = backoffSeconds
    }

    /// The wait after failed attempt `attempt` (from 1).
    public func delay(after attempt: Int) -> Duration {
        .milliseconds(Int64(backoffSeconds * 1000 * Double(1 << min(max(attempt - 1, 0), 16))))
    }
}
