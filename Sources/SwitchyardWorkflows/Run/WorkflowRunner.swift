import Foundation
import HTTPTypes
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres
import Synchronization

/// Executes workflow runs, one job attempt at a time (REQUIREMENTS WF-1).
///
/// An attempt reads the run and its steps' states, then runs the steps in order from the first unfinished one.
/// Steps without effects (filter, map, a skipped `if`) are kept in memory and written with the next write, which
/// always comes before any effect: a step with effects is marked running (its attempt counted) before it starts, and
/// its result is written as soon as it returns, so a finished step never runs again, and an attempt cut short by a
/// crash repeats at most the effect in flight, with the same `Idempotency-Key`. A step's retries wait in the queue
/// (`Outcome.waiting`) without holding an executor, as delays do.
public struct WorkflowRunner: Sendable {
    /// Bounds no definition can raise.
    public struct Settings: Sendable {
        /// Runs of one tenant running or waiting at once, across its workflows.
        public var maxConcurrentRunsPerTenant: Int
        /// The largest step output stored (and seen by later steps), in bytes of JSON; a larger one is replaced by a
        /// note of its size.
        public var maxOutputBytes: Int
        /// How long a run waits before checking again on a sync it waits for.
        public var syncPollInterval: Duration
        /// How long a run held back by a concurrency limit waits before trying again.
        public var concurrencyRetry: Duration

        public init(
            maxConcurrentRunsPerTenant: Int = 500,
            maxOutputBytes: Int = 64 * 1024,
            syncPollInterval: Duration = .seconds(2),
            concurrencyRetry: Duration = .seconds(1)
        ) {
            self.maxConcurrentRunsPerTenant = maxConcurrentRunsPerTenant
            self.maxOutputBytes = maxOutputBytes
            self.syncPollInterval = syncPollInterval
            self.concurrencyRetry = concurrencyRetry
        }
    }

    /// How an attempt ended.
    public enum Outcome: Sendable, Equatable {
        /// The run finished (or had finished) with this status; `error` for a failed run.
        case finished(WorkflowRunStatus, error: String?)
        /// The run waits (a delay, a sync, a step's retry): the job is due again after `after`.
        case waiting(after: Duration, progress: String)
        /// A concurrency limit holds the run back; nothing was done.
        case deferred(after: Duration, reason: String)
        /// The trigger's condition was false: no run was created.
        case notStarted
    }

    let database: Database
    let caller: IntegrationCaller
    let settings: Settings
    let definitions = DefinitionCache()
    /// Writes that many runs make at once, batched per tenant.
    let batches: WorkflowRunBatches
    let metrics: WorkflowMetrics?
    let usage: UsageMeter?

    public init(
        database: Database,
        caller: IntegrationCaller,
        settings: Settings = Settings(),
        metrics: WorkflowMetrics? = nil,
        usage: UsageMeter? = nil
    ) {
        self.database = database
        self.batches = WorkflowRunBatches(database: database, caller: caller, tenantLimit: settings.maxConcurrentRunsPerTenant)
        self.caller = caller
        self.settings = settings
        self.metrics = metrics
        self.usage = usage
    }

    /// One attempt of the run `payload` names (or, for an event's run not yet created, the run with id `jobID`).
    /// `attempt` 1 of a failed run is a redrive of its dead job: the run resumes from its failed step.
    public func run(_ payload: WorkflowRunPayload, jobID: UUID, tenant: TenantID, attempt: Int, logger: Logger) async throws -> Outcome {
        switch attempt == 1 ? firstAttempt(payload, jobID: jobID, tenant: tenant) : .longWay {
        case .longWay: break
        case .noRun: return .notStarted
        case .run(let run, let definition):
            var execution = Execution(runner: self, starting: run, definition: definition, tenant: tenant, logger: logger)
            do {
                return try await execution.go()
            } catch is RunHeldBack {
                return heldBack
            } catch is RunExistsAlready {
                // A redriven job whose run its first claim made: the long way below resumes it. Its pure steps were
                // evaluated (and counted in the step metrics) for nothing.
            }
        }
        let runID = payload.runID ?? jobID
        let loaded = try await database.withTenant(tenant, logger: logger) { transaction -> Loaded? in
            var run: WorkflowRunRecord
            var steps: [WorkflowRunStepRecord]
            if payload.runID == nil {
                // A run an event or a schedule starts: made by the job's first attempt, found by the later ones.
                guard let found = try await create(payload, runID: runID, tenant: tenant, in: transaction) else { return nil }
                run = found.run
                steps = found.created ? [] : try await transaction.workflowRunSteps(runID)
            } else {
                guard let found = try await transaction.workflowRun(runID, locking: true) else {
                    throw SwitchyardError.internal("workflow run \(runID.lowercasedString) does not exist")
                }
                run = found
                steps = try await transaction.workflowRunSteps(runID)
            }
            let definition = try await definition(run.workflowID, version: run.version, tenant: tenant, in: transaction)
            if run.status == .failed, attempt == 1 {
                // The dead job was redriven (here or through the dead letters): resume from the failed step.
                try await transaction.reopenFailedWorkflowRun(runID)
                run = try await transaction.workflowRun(runID) ?? run
                steps = try await transaction.workflowRunSteps(runID)
            }
            if run.status == .queued {
                let limit = definition.limits.maxConcurrentRuns
                guard
                    let started = try await transaction.startWorkflowRun(
                        runID,
                        workflowLimit: limit,
                        tenantLimit: settings.maxConcurrentRunsPerTenant
                    )
                else {
                    return Loaded(run: run, definition: definition, steps: steps, held: true)
                }
                run = started
                metrics?.runStarted()
            }
            return Loaded(run: run, definition: definition, steps: steps, held: false)
        }
        guard let loaded else { return .notStarted }
        if loaded.held {
            return heldBack
        }
        let run = loaded.run
        if run.status.isFinished { return .finished(run.status, error: run.error) }
        var execution = Execution(
            runner: self,
            run: run,
            definition: loaded.definition,
            tenant: tenant,
            rows: Dictionary(loaded.steps.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first }),
            nextPosition: (loaded.steps.map(\.position).max() ?? -1) + 1,
            stepsRun: run.stepsRun,
            cancelRequested: run.cancelRequested,
            logger: logger
        )
        return try await execution.go()
    }

    /// The run a job of an event or a schedule starts, with the job's id: for an event, when the trigger's condition
    /// holds, on the version the event found active; for a schedule's fire, on the version active now, when the
    /// workflow is enabled. An earlier attempt's run is returned as it is (`created` false); nil when no run starts.
    private func create(
        _ payload: WorkflowRunPayload,
        runID: UUID,
        tenant: TenantID,
        in transaction: TenantTransaction
    ) async throws
        -> (run: WorkflowRunRecord, created: Bool)?
    {
        let version: Int
        let trigger: JSONValue
        if let event = payload.event, let pinned = payload.version {
            let definition = try await definition(payload.workflowID, version: pinned, tenant: tenant, in: transaction)
            if case .event(_, let condition?) = definition.trigger,
                !(try WorkflowTemplate.evaluate(condition, data: .object(["event": event])).isTruthy)
            {
                return try await transaction.workflowRun(runID, locking: true).map { ($0, false) }
            }
            version = pinned
            trigger = .object(["type": .string("event"), "event": event])
        } else {
            guard let workflow = try await transaction.workflow(payload.workflowID), workflow.enabled else {
                return try await transaction.workflowRun(runID, locking: true).map { ($0, false) }
            }
            version = workflow.activeVersion
            trigger = .object(["type": .string("schedule"), "fired_at": .string(Date().formatted(.iso8601))])
        }
        return try await transaction.insertWorkflowRun(
            NewWorkflowRun(
                id: runID,
                workflowID: payload.workflowID,
                version: version,
                jobID: runID,
                trigger: trigger,
                input: .object([:]),
                idempotencyKey: nil
            )
        )
    }

    /// What a run held back by a concurrency limit answers.
    private var heldBack: Outcome {
        .deferred(after: settings.concurrencyRetry, reason: "the workflow's or the tenant's concurrent runs are at their limit")
    }

    /// How an event job's first attempt starts.
    private enum FirstAttempt {
        /// Without reading anything first: the run will be created by the attempt's first write (`Execution.starting`).
        case run(NewWorkflowRun, WorkflowDefinition)
        /// The trigger's condition is false: no run.
        case noRun
        /// Reading the run and its definition first (not an event's job, or a definition this process has not parsed).
        case longWay
    }

    private func firstAttempt(_ payload: WorkflowRunPayload, jobID: UUID, tenant: TenantID) -> FirstAttempt {
        guard payload.runID == nil, let event = payload.event, let version = payload.version,
            let definition = definitions[DefinitionCache.Key(tenant: tenant, workflow: payload.workflowID, version: version)]
        else { return .longWay }
        if case .event(_, let condition?) = definition.trigger {
            // A condition that fails to evaluate fails the job the long way, as it always has.
            guard let holds = try? WorkflowTemplate.evaluate(condition, data: .object(["event": event])).isTruthy else { return .longWay }
            if !holds { return .noRun }
        }
        let run = NewWorkflowRun(
            id: jobID,
            workflowID: payload.workflowID,
            version: version,
            jobID: jobID,
            trigger: .object(["type": .string("event"), "event": event]),
            input: .object([:]),
            idempotencyKey: nil
        )
        return .run(run, definition)
    }

    struct Loaded: Sendable {
        let run: WorkflowRunRecord
        let definition: WorkflowDefinition
        let steps: [WorkflowRunStepRecord]
        let held: Bool
    }

    /// The parsed definition of a version: versions never change, so each is parsed once per process.
    func definition(_ workflowID: UUID, version: Int, tenant: TenantID, in transaction: TenantTransaction) async throws -> WorkflowDefinition {
        let key = DefinitionCache.Key(tenant: tenant, workflow: workflowID, version: version)
        if let cached = definitions[key] { return cached }
        guard let record = try await transaction.workflowVersion(workflowID, version: version) else {
            throw SwitchyardError.internal("workflow \(workflowID.lowercasedString) has no version \(version)")
        }
        let definition: WorkflowDefinition
        do {
            definition = try WorkflowDefinition.parse(record.definition)
        } catch {
            throw SwitchyardError.internal("stored workflow version no longer parses: \(error)")
        }
        definitions[key] = definition
        return definition
    }
}

/// Parsed definitions by tenant, workflow and version; bounded (cleared when full: entries are cheap to rebuild).
final class DefinitionCache: Sendable {
    struct Key: Hashable, Sendable {
        let tenant: TenantID
        let workflow: UUID
        let version: Int
    }

    private let entries = Mutex<[Key: WorkflowDefinition]>([:])
    private let capacity = 2_000

    subscript(key: Key) -> WorkflowDefinition? {
        get { entries.withLock { $0[key] } }
        set {
            entries.withLock { entries in
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[key] = newValue
            }
        }
    }
}
