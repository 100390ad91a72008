import Prometheus

/// Workflow runs and their steps: runs started and finished by outcome, steps by type and outcome, and the time a
/// step takes by type. Labels are fixed sets (step types, outcomes), never a workflow, run or tenant id.
public final class WorkflowMetrics: Sendable {
    /// How a run ended.
    public enum RunOutcome: String, Sendable, CaseIterable {
        case succeeded, failed, skipped, cancelled
    }

    /// How one execution of a step ended.
    public enum StepOutcome: String, Sendable, CaseIterable {
        case succeeded, failed, skipped
        /// Failed with attempts left: retried after its backoff.
        case retried
    }

    public static let stepTypes = ["filter", "map", "http", "deliver", "sync", "delay", "for_each"]

    private let started: Counter
    private let runs: [RunOutcome: Counter]
    private let steps: [String: Counter]
    private let durations: [String: DurationHistogram]
    private let running: Gauge
    private let waiting: Gauge

    init(registry: PrometheusCollectorRegistry) {
        started = registry.makeCounter(
            descriptor: .switchyard("workflow_runs_started", unit: "total", help: "Workflow runs that started running (left the queue)."),
            labels: []
        )
        var runs: [RunOutcome: Counter] = [:]
        for outcome in RunOutcome.allCases {
            runs[outcome] = registry.makeCounter(
                descriptor: .switchyard(
                    "workflow_runs_finished",
                    unit: "total",
                    help: "Workflow runs finished, by outcome: succeeded, failed (a dead letter), skipped (a filter stopped it), cancelled."
                ),
                labels: [("outcome", outcome.rawValue)]
            )
        }
        var steps: [String: Counter] = [:]
        var durations: [String: DurationHistogram] = [:]
        for type in Self.stepTypes {
            for outcome in StepOutcome.allCases {
                steps["\(type)/\(outcome.rawValue)"] = registry.makeCounter(
                    descriptor: .switchyard(
                        "workflow_steps",
                        unit: "total",
                        help: "Workflow step executions by step type and outcome: succeeded, failed (the run fails), skipped, retried."
                    ),
                    labels: [("type", type), ("outcome", outcome.rawValue)]
                )
            }
            durations[type] = registry.makeDurationHistogram(
                descriptor: .switchyard(
                    "workflow_step_duration",
                    unit: "seconds",
                    help: "Time one execution of a workflow step takes, by step type (a delay's or a waited sync's wait not included)."
                ),
                labels: [("type", type)],
                buckets: [
                    .microseconds(100), .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                    .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30),
                ]
            )
        }
        self.runs = runs
        self.steps = steps
        self.durations = durations
        let active = MetricNameDescriptor.switchyard(
            "workflow_runs_active",
            unit: "",
            help:
                "Workflow runs running (on an executor) or waiting (a delay, a sync, a step's retry: no executor held), across tenants; counted by the scheduler."
        )
        running = registry.makeGauge(descriptor: active, labels: [("status", "running")])
        waiting = registry.makeGauge(descriptor: active, labels: [("status", "waiting")])
    }

    public func setActiveRuns(running: Int, waiting: Int) {
        self.running.set(to: Double(running))
        self.waiting.set(to: Double(waiting))
    }

    public func runStarted() { started.increment() }

    public func runFinished(_ outcome: RunOutcome) { runs[outcome]?.increment() }

    public func step(_ type: String, _ outcome: StepOutcome, duration: Duration?) {
        steps["\(type)/\(outcome.rawValue)"]?.increment()
        if let duration { durations[type]?.record(duration) }
    }
}
