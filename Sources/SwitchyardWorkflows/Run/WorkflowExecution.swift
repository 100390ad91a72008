import Foundation
import HTTPTypes
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardSyncs

/// One attempt's walk through a run's steps (see `WorkflowRunner`).
struct Execution {
    let runner: WorkflowRunner
    let run: WorkflowRunRecord
    let definition: WorkflowDefinition
    let tenant: TenantID
    /// The steps' states as the attempt found them.
    let rows: [String: WorkflowRunStepRecord]
    var nextPosition: Int
    var stepsRun: Int
    var cancelRequested: Bool
    let logger: Logger

    /// Step states not written yet, by key, in the order they were made.
    private var pending: [String: WorkflowStepWrite] = [:]
    private var pendingOrder: [String] = []
    private var positions: [String: Int] = [:]
    /// A step with effects finished: its state is written before anything else happens.
    private var mustWrite = false
    /// The run this attempt creates with its first write, when it was not read first (`init(starting:)`): always an
    /// event's run, whose trigger is the event its job carries.
    private var pendingStart: NewWorkflowRun?

    init(
        runner: WorkflowRunner,
        run: WorkflowRunRecord,
        definition: WorkflowDefinition,
        tenant: TenantID,
        rows: [String: WorkflowRunStepRecord],
        nextPosition: Int,
        stepsRun: Int,
        cancelRequested: Bool,
        logger: Logger
    ) {
        self.runner = runner
        self.run = run
        self.definition = definition
        self.tenant = tenant
        self.rows = rows
        self.nextPosition = nextPosition
        self.stepsRun = stepsRun
        self.cancelRequested = cancelRequested
        self.logger = logger
    }

    /// The first attempt of an event's run that is not created yet: its steps run from the first, and the first
    /// write creates the run (running) before anything else; when a limit holds the run back, that write creates it
    /// queued and the attempt ends (`RunHeldBack`), and when the run exists already, nothing is written
    /// (`RunExistsAlready`). Nothing with effects happens before that write, so either way nothing happened twice.
    init(runner: WorkflowRunner, starting new: NewWorkflowRun, definition: WorkflowDefinition, tenant: TenantID, logger: Logger) {
        self.init(
            runner: runner,
            run: WorkflowRunRecord(starting: new, at: Date()),
            definition: definition,
            tenant: tenant,
            rows: [:],
            nextPosition: 0,
            stepsRun: 0,
            cancelRequested: false,
            logger: logger
        )
        pendingStart = new
    }

    enum Flow {
        /// Go on with the next step.
        case next
        /// A filter was false: the run (or, in a `for_each`, the iteration) stops.
        case stop
        /// The attempt ends here.
        case end(WorkflowRunner.Outcome)
    }

    /// What a step with effects came to.
    enum StepResult {
        case succeeded(JSONValue)
        /// Worth trying again (a 5xx, a timeout, a 429).
        case retryable(String)
        /// Trying again cannot help.
        case failed(String)
    }

    mutating func go() async throws -> WorkflowRunner.Outcome {
        if run.status == .waiting {
            try await write(status: .running)
        }
        var scope: [String: JSONValue] = [:]
        let base: [String: JSONValue] = ["trigger": run.trigger, "input": run.input]
        switch try await execute(definition.steps, prefix: "", scope: &scope, base: base) {
        case .next: return try await finish(.succeeded, error: nil)
        case .stop: return try await finish(.skipped, error: nil)
        case .end(let outcome): return outcome
        }
    }

    // MARK: Steps

    mutating func execute(_ steps: [WorkflowStep], prefix: String, scope: inout [String: JSONValue], base: [String: JSONValue]) async throws -> Flow {
        for step in steps {
            let key = prefix + step.id
            if let row = rows[key], row.state.isFinished {
                scope[step.id] = row.output ?? .null
                if case .filter = step.action, case .object(let output)? = row.output, output["passed"] == .bool(false) { return .stop }
                continue
            }
            if mustWrite { try await write() }
            if cancelRequested { return .end(try await finish(.cancelled, error: nil)) }
            if stepsRun >= definition.limits.maxSteps {
                return .end(try await fail(step, key, "the run reached its limit of \(definition.limits.maxSteps) steps"))
            }
            if let started = run.startedAt, Date().timeIntervalSince(started) > Double(definition.limits.maxDurationSeconds) {
                return .end(try await fail(step, key, "the run reached its limit of \(definition.limits.maxDurationSeconds) seconds"))
            }
            var data = base
            data["steps"] = .object(scope)
            let context = JSONValue.object(data)
            let clock = ContinuousClock.now
            stepsRun += 1
            if let condition = step.condition {
                let holds: Bool
                do {
                    holds = try JSONLogic.evaluate(condition, data: context).isTruthy
                } catch {
                    return .end(try await fail(step, key, "its `if` condition failed: \(error)"))
                }
                if !holds {
                    buffer(WorkflowStepWrite(key: key, position: position(key), type: step.typeName, state: .skipped, finishedAt: Date()))
                    scope[step.id] = .null
                    runner.metrics?.step(step.typeName, .skipped, duration: nil)
                    continue
                }
            }
            switch step.action {
            case .filter(let condition):
                let passed: Bool
                do {
                    passed = try JSONLogic.evaluate(condition, data: context).isTruthy
                } catch {
                    return .end(try await fail(step, key, "its condition failed: \(error)"))
                }
                let output = JSONValue.object(["passed": .bool(passed)])
                succeed(step, key, output: output, since: clock)
                scope[step.id] = output
                if !passed { return .stop }
            case .map(let template):
                let output: JSONValue
                do {
                    output = capped(try WorkflowTemplate.evaluate(template, data: context))
                } catch {
                    return .end(try await fail(step, key, "its template failed: \(error)"))
                }
                succeed(step, key, output: output, since: clock)
                scope[step.id] = output
            case .http(let call):
                let (flow, output) = try await http(call, step: step, key: key, context: context, since: clock)
                if let output { scope[step.id] = output }
                if case .next = flow { continue }
                return flow
            case .deliver(let destinationID, let body):
                let (flow, output) = try await deliver(destinationID, body: body, step: step, key: key, context: context, since: clock)
                if let output { scope[step.id] = output }
                if case .next = flow { continue }
                return flow
            case .sync(let integrationID, let name, let wait):
                let (flow, output) = try await sync(integrationID, name: name, wait: wait, step: step, key: key, since: clock)
                if let output { scope[step.id] = output }
                if case .next = flow { continue }
                return flow
            case .delay(let seconds):
                if let row = rows[key], row.state == .running, let resumeAt = row.resumeAt {
                    let left = resumeAt.timeIntervalSinceNow
                    if left > 0 {
                        try await write(status: .waiting)
                        return .end(.waiting(after: .milliseconds(Int64(left * 1000)), progress: "step '\(key)' waits until \(resumeAt)"))
                    }
                    let output = JSONValue.object(["waited_seconds": .number(Double(seconds))])
                    succeed(step, key, output: output, since: nil, startedAt: row.startedAt)
                    scope[step.id] = output
                } else {
                    let now = Date()
                    let resumeAt = now.addingTimeInterval(Double(seconds))
                    buffer(
                        WorkflowStepWrite(
                            key: key,
                            position: position(key),
                            type: step.typeName,
                            state: .running,
                            attempts: 1,
                            resumeAt: resumeAt,
                            startedAt: now
                        )
                    )
                    try await write(status: .waiting)
                    return .end(.waiting(after: .seconds(seconds), progress: "step '\(key)' waits until \(resumeAt)"))
                }
            case .forEach(let itemsRule, let maxItems, let nested):
                let items: [JSONValue]
                do {
                    guard case .array(let values) = try JSONLogic.evaluate(itemsRule, data: context) else {
                        return .end(try await fail(step, key, "items is not an array"))
                    }
                    items = values
                } catch {
                    return .end(try await fail(step, key, "its items expression failed: \(error)"))
                }
                guard items.count <= maxItems else {
                    return .end(try await fail(step, key, "items has \(items.count) elements, more than max_items (\(maxItems))"))
                }
                var outputs: [JSONValue] = []
                for (index, item) in items.enumerated() {
                    var inner = scope
                    var innerBase = base
                    innerBase["item"] = item
                    innerBase["index"] = .number(Double(index))
                    switch try await execute(nested, prefix: "\(key)/\(index)/", scope: &inner, base: innerBase) {
                    case .next, .stop: break
                    case .end(let outcome): return .end(outcome)
                    }
                    var iteration: [String: JSONValue] = [:]
                    for child in nested { iteration[child.id] = inner[child.id] }
                    outputs.append(.object(iteration))
                }
                let output = capped(.array(outputs))
                succeed(step, key, output: output, since: clock)
                scope[step.id] = output
            }
        }
        return .next
    }

    /// A call through an integration; `Idempotency-Key` is the run's id and the step's key, the same on every attempt.
    mutating func http(
        _ call: WorkflowStep.HTTPCall,
        step: WorkflowStep,
        key: String,
        context: JSONValue,
        since clock: ContinuousClock.Instant
    ) async throws -> (Flow, JSONValue?) {
        let path: String
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var body: JSONValue?
        do {
            guard case .string(let evaluated) = try WorkflowTemplate.evaluate(call.path, data: context) else {
                return (.end(try await fail(step, key, "path is not a string")), nil)
            }
            path = evaluated
            if let template = call.query {
                guard case .object(let members) = try WorkflowTemplate.evaluate(template, data: context) else {
                    return (.end(try await fail(step, key, "query is not an object")), nil)
                }
                for (name, value) in members.sorted(by: { $0.key < $1.key }) where value != .null {
                    guard let text = value.scalarText else { return (.end(try await fail(step, key, "query '\(name)' is not a scalar")), nil) }
                    query.append((name, text))
                }
            }
            if let template = call.headers {
                guard case .object(let members) = try WorkflowTemplate.evaluate(template, data: context) else {
                    return (.end(try await fail(step, key, "headers is not an object")), nil)
                }
                for (name, value) in members.sorted(by: { $0.key < $1.key }) {
                    guard let text = value.scalarText, HTTPField.Name(name) != nil else {
                        return (.end(try await fail(step, key, "header '\(name)' is not a valid header")), nil)
                    }
                    headers.append((name, text))
                }
            }
            body = try call.body.map { try WorkflowTemplate.evaluate($0, data: context) }
        } catch {
            return (.end(try await fail(step, key, "its request failed to evaluate: \(error)")), nil)
        }
        guard path.hasPrefix("/"), !path.contains("#"), !path.split(separator: "/").contains("..") else {
            return (.end(try await fail(step, key, "path must start with / and hold no .. segment or #")), nil)
        }
        let attempt = (rows[key]?.attempts ?? 0) + 1
        let startedAt = rows[key]?.startedAt ?? Date()
        var inputMembers: [String: JSONValue] = ["method": .string(call.method), "path": .string(path)]
        if !query.isEmpty { inputMembers["query"] = .object(Dictionary(query.map { ($0.0, JSONValue.string($0.1)) }, uniquingKeysWith: { $1 })) }
        if let body { inputMembers["body"] = body }
        let input = capped(.object(inputMembers))
        buffer(
            WorkflowStepWrite(
                key: key,
                position: position(key),
                type: step.typeName,
                state: .running,
                input: input,
                attempts: attempt,
                startedAt: startedAt
            )
        )
        // The target (and its credential, into `lease`) is read in the transaction that records the step as running.
        let lease = CredentialLease()
        let lookup: Result<IntegrationCaller.Target, any Error>
        if let new = pendingStart {
            // A new run's first write, batched with those of the tenant's other runs starting at the same moment.
            let start = NewWorkflowRunStart(
                run: new,
                workflowLimit: definition.limits.maxConcurrentRuns,
                steps: pendingOrder.compactMap { pending[$0] },
                stepsRun: stepsRun
            )
            let request = WorkflowRunBatches.HTTPStart(start: start, integrationID: call.integrationID, lease: lease)
            switch try await runner.batches.httpStarts.submit(request, tenant: tenant, logger: logger) {
            case .started(let target):
                runner.metrics?.runStarted()
                lookup = target
                written()
            case .held: throw RunHeldBack()
            case .exists: throw RunExistsAlready()
            }
        } else {
            let caller = runner.caller
            lookup = try await writeReading { transaction -> (read: Result<IntegrationCaller.Target, any Error>, extra: [WorkflowStepWrite]) in
                do {
                    return (.success(try await caller.target(call.integrationID, in: transaction, lease: lease)), [])
                } catch let error where !(error is SecretUnreadable) {
                    // Judged below as the step's outcome, as when it was read on its own; the write still commits (a
                    // failed statement aborts the transaction, and the write then fails as it should). A secret that
                    // does not open leaves the transaction, to be reported as a security event.
                    return (.failure(error), [])
                }
            }
        }
        if cancelRequested { return (.end(try await finish(.cancelled, error: nil)), nil) }

        let result: StepResult
        do {
            let target = try lookup.get()
            var fields = HTTPFields()
            for (name, value) in headers { if let name = HTTPField.Name(name) { fields[name] = value } }
            fields[Self.idempotencyKey] = "\(run.id.lowercasedString)/\(key)"
            var buffer: ByteBuffer?
            if let body {
                fields[.contentType] = "application/json"
                buffer = ByteBuffer(bytes: body.serialized())
            }
            let url =
                target.baseURL + path + (query.isEmpty ? "" : "?" + query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&"))
            let response = try await runner.caller.send(
                target,
                method: HTTPRequest.Method(call.method) ?? .get,
                url: url,
                headers: fields,
                body: buffer,
                lease: lease,
                logger: logger
            )
            let code = response.status.code
            let data = Data(response.body.readableBytesView)
            let responseBody = (try? JSONDecoder().decode(JSONValue.self, from: data)) ?? .string(String(decoding: data, as: UTF8.self))
            let output = JSONValue.object(["status": .number(Double(code)), "body": responseBody])
            if (200..<300).contains(code) || call.acceptStatuses.contains(code) {
                result = .succeeded(output)
            } else if response.outcome.isRetryable {
                result = .retryable("the provider answered \(code)")
            } else {
                result = .failed("the provider answered \(code)")
            }
        } catch let error as OutboundError {
            result = error.outcome.isRetryable ? .retryable(error.description) : .failed(error.description)
        } catch let error as SwitchyardError where error.kind != .internal && error.kind != .unavailable {
            result = .failed(error.detail)
        } catch let error as any SwitchyardErrorConvertible {
            result = .failed(error.switchyardError.detail)
        }
        return try await conclude(result, step: step, key: key, input: input, attempt: attempt, startedAt: startedAt, since: clock)
    }

    /// A document to one of the tenant's destinations: the delivery job is queued in the transaction that records the
    /// step as succeeded, so the step delivers once.
    mutating func deliver(
        _ destinationID: UUID,
        body: JSONValue,
        step: WorkflowStep,
        key: String,
        context: JSONValue,
        since clock: ContinuousClock.Instant
    ) async throws -> (Flow, JSONValue?) {
        let document: JSONValue
        do {
            document = try WorkflowTemplate.evaluate(body, data: context)
        } catch {
            return (.end(try await fail(step, key, "its body failed to evaluate: \(error)")), nil)
        }
        let data = JSONValue.object([
            "workflow_id": .string(run.workflowID.lowercasedString), "run_id": .string(run.id.lowercasedString), "step": .string(key),
            "document": document,
        ])
        let row = WorkflowStepWrite(key: key, position: position(key), type: step.typeName, state: .succeeded, attempts: 1, startedAt: Date())
        var stored: JSONValue?
        do {
            try await write { transaction in
                guard let queued = try await transaction.enqueueWorkflowDelivery(to: destinationID, data: data) else {
                    throw StepRefused("the destination no longer exists")
                }
                var done = row
                done.output = .object([
                    "delivery_id": .string(queued.deliveryID.lowercasedString), "event_id": .string(queued.eventID.lowercasedString),
                ])
                done.finishedAt = Date()
                stored = done.output
                return [done]
            }
        } catch let refused as StepRefused {
            return (.end(try await fail(step, key, refused.message)), nil)
        }
        runner.metrics?.step(step.typeName, .succeeded, duration: ContinuousClock.now - clock)
        return (.next, stored)
    }

    /// Starts a run of one of the integration's syncs with the step's state, then (with `wait`) checks on it every
    /// `syncPollInterval` without holding an executor.
    mutating func sync(
        _ integrationID: UUID,
        name: String,
        wait: Bool,
        step: WorkflowStep,
        key: String,
        since clock: ContinuousClock.Instant
    ) async throws -> (Flow, JSONValue?) {
        if let row = rows[key], row.state == .running, case .object(let started)? = row.output, case .string(let text)? = started["sync_run_id"],
            let syncRunID = UUID(uuidString: text)
        {
            let syncRun = try await runner.database.withTenant(tenant, logger: logger) { try await $0.syncRun(syncRunID) }
            guard let syncRun else { return (.end(try await fail(step, key, "the sync run it started no longer exists")), nil) }
            switch syncRun.status {
            case .succeeded:
                let output = JSONValue.object([
                    "sync_run_id": .string(text), "status": .string(syncRun.status.rawValue), "added": .number(Double(syncRun.added)),
                    "updated": .number(Double(syncRun.updated)), "deleted": .number(Double(syncRun.deleted)),
                ])
                succeed(step, key, output: output, since: nil, startedAt: row.startedAt)
                mustWrite = true
                return (.next, output)
            case .failed:
                return (.end(try await fail(step, key, "the sync run failed: \(syncRun.error ?? "no reason given")")), nil)
            case .queued, .running:
                try await write(status: .waiting)
                return (.end(.waiting(after: runner.settings.syncPollInterval, progress: "step '\(key)' waits for sync run \(text)")), nil)
            }
        }
        let now = Date()
        let position = position(key)
        let type = step.typeName
        var output: JSONValue?
        do {
            try await write(status: wait ? .waiting : nil) { transaction in
                guard let integration = try await transaction.integration(integrationID) else {
                    throw StepRefused("the integration no longer exists")
                }
                guard let resolved = try await SyncDirectory.sync(provider: integration.provider, name: name, in: transaction) else {
                    throw StepRefused("the integration's provider has no sync named '\(name)'")
                }
                let started = try await SyncRunStart.start(resolved, integration: integration, mode: nil, trigger: .api, in: transaction)
                let result = JSONValue.object(["sync_run_id": .string(started.run.id.lowercasedString)])
                output = result
                return [
                    WorkflowStepWrite(
                        key: key,
                        position: position,
                        type: type,
                        state: wait ? .running : .succeeded,
                        output: result,
                        attempts: 1,
                        startedAt: now,
                        finishedAt: wait ? nil : Date()
                    )
                ]
            }
        } catch let refused as StepRefused {
            return (.end(try await fail(step, key, refused.message)), nil)
        }
        if wait { return (.end(.waiting(after: runner.settings.syncPollInterval, progress: "step '\(key)' waits for its sync run")), nil) }
        runner.metrics?.step(step.typeName, .succeeded, duration: ContinuousClock.now - clock)
        return (.next, output)
    }

    /// A step with effects came to `result`: recorded, retried after its backoff, or the run fails.
    mutating func conclude(
        _ result: StepResult,
        step: WorkflowStep,
        key: String,
        input: JSONValue?,
        attempt: Int,
        startedAt: Date,
        since clock: ContinuousClock.Instant
    ) async throws -> (Flow, JSONValue?) {
        switch result {
        case .succeeded(let output):
            let stored = capped(output)
            buffer(
                WorkflowStepWrite(
                    key: key,
                    position: position(key),
                    type: step.typeName,
                    state: .succeeded,
                    input: input,
                    output: stored,
                    attempts: attempt,
                    startedAt: startedAt,
                    finishedAt: Date()
                )
            )
            runner.metrics?.step(step.typeName, .succeeded, duration: ContinuousClock.now - clock)
            mustWrite = true
            return (.next, stored)
        case .retryable(let message) where attempt < step.retry.maxAttempts:
            buffer(
                WorkflowStepWrite(
                    key: key,
                    position: position(key),
                    type: step.typeName,
                    state: .running,
                    input: input,
                    error: Self.clean(message),
                    attempts: attempt,
                    startedAt: startedAt
                )
            )
            try await write(status: .waiting)
            runner.metrics?.step(step.typeName, .retried, duration: ContinuousClock.now - clock)
            let delay = step.retry.delay(after: attempt)
            return (.end(.waiting(after: delay, progress: "step '\(key)' attempt \(attempt) failed (\(message)); retrying")), nil)
        case .retryable(let message), .failed(let message):
            return (.end(try await fail(step, key, message, input: input, attempts: attempt, startedAt: startedAt, since: clock)), nil)
        }
    }

    // MARK: Writing

    private mutating func position(_ key: String) -> Int {
        if let row = rows[key] { return row.position }
        if let known = positions[key] { return known }
        defer { nextPosition += 1 }
        positions[key] = nextPosition
        return nextPosition
    }

    private mutating func buffer(_ write: WorkflowStepWrite) {
        if pending[write.key] == nil { pendingOrder.append(write.key) }
        pending[write.key] = write
    }

    private mutating func succeed(
        _ step: WorkflowStep,
        _ key: String,
        output: JSONValue,
        since clock: ContinuousClock.Instant?,
        startedAt: Date? = nil
    ) {
        let now = Date()
        buffer(
            WorkflowStepWrite(
                key: key,
                position: position(key),
                type: step.typeName,
                state: .succeeded,
                output: output,
                attempts: 1,
                startedAt: startedAt ?? now,
                finishedAt: now
            )
        )
        runner.metrics?.step(step.typeName, .succeeded, duration: clock.map { ContinuousClock.now - $0 })
    }

    /// Writes the buffered step states (and `status`, and what `alongside` writes in the same transaction); reads
    /// whether a cancel was asked for. The buffer is kept when the transaction fails.
    private mutating func write(
        status: WorkflowRunStatus? = nil,
        alongside: ((TenantTransaction) async throws -> [WorkflowStepWrite])? = nil
    ) async throws {
        try await writeReading(status: status) { transaction in (read: (), extra: try await alongside?(transaction) ?? []) }
    }

    /// What was buffered is written (and the run exists): the buffer starts empty.
    private mutating func written() {
        pendingStart = nil
        pending = [:]
        pendingOrder = []
        mustWrite = false
    }

    /// The same, and returns what `body` reads in that transaction (before the write) besides the writes it adds.
    private mutating func writeReading<Read: Sendable>(
        status: WorkflowRunStatus? = nil,
        _ body: (TenantTransaction) async throws -> (read: Read, extra: [WorkflowStepWrite])
    ) async throws -> Read {
        let writes = pendingOrder.compactMap { pending[$0] }
        let runID = run.id
        let stepsRun = stepsRun
        let start = pendingStart
        let result = try await runner.database.withTenant(tenant, logger: logger) { transaction -> (Read, Bool)? in
            if let start, try await !self.start(start, in: transaction) { return nil }
            let (read, extra) = try await body(transaction)
            return (read, try await transaction.saveWorkflowProgress(runID, steps: writes + extra, status: status, stepsRun: stepsRun))
        }
        guard let (read, cancel) = result else { throw RunHeldBack() }
        cancelRequested = cancel
        written()
        return read
    }

    /// The step fails and so does the run.
    private mutating func fail(
        _ step: WorkflowStep,
        _ key: String,
        _ message: String,
        input: JSONValue? = nil,
        attempts: Int = 1,
        startedAt: Date? = nil,
        since clock: ContinuousClock.Instant? = nil
    ) async throws -> WorkflowRunner.Outcome {
        let now = Date()
        buffer(
            WorkflowStepWrite(
                key: key,
                position: position(key),
                type: step.typeName,
                state: .failed,
                input: input,
                error: Self.clean(message),
                attempts: attempts,
                startedAt: startedAt ?? now,
                finishedAt: now
            )
        )
        runner.metrics?.step(step.typeName, .failed, duration: clock.map { ContinuousClock.now - $0 })
        return try await finish(.failed, error: "step '\(key)': \(message)")
    }

    /// Ends the run with the buffered steps, and its event (`workflow.run.succeeded`, `workflow.run.failed`) in the
    /// same transaction.
    private mutating func finish(_ status: WorkflowRunStatus, error: String?) async throws -> WorkflowRunner.Outcome {
        let writes = pendingOrder.compactMap { pending[$0] }
        let run = run
        let stepsRun = stepsRun
        let error = error.map(Self.clean)
        var event: (type: String, data: [String: JSONValue])?
        if status == .succeeded || status == .failed {
            var data: [String: JSONValue] = [
                "workflow_id": .string(run.workflowID.lowercasedString), "run_id": .string(run.id.lowercasedString),
                "version": .number(Double(run.version)), "status": .string(status.rawValue),
            ]
            if let error { data["error"] = .string(error) }
            event = ("workflow.run.\(status.rawValue)", data)
        }
        let finish = WorkflowRunFinish(runID: run.id, steps: writes, status: status, error: error, stepsRun: stepsRun, event: event)
        if let start = pendingStart {
            // Ending in its first write (a filter said no before any effect): created and ended in one transaction.
            let finished = try await runner.database.withTenant(tenant, logger: logger) { transaction in
                guard try await self.start(start, in: transaction) else { return false }
                try await transaction.finishWorkflowRuns([finish])
                return true
            }
            guard finished else { throw RunHeldBack() }
        } else {
            try await runner.batches.finishes.submit(finish, tenant: tenant, logger: logger)
        }
        written()
        if let outcome = WorkflowMetrics.RunOutcome(rawValue: status.rawValue) {
            runner.metrics?.runFinished(outcome)
            runner.usage?.record(.workflowRuns, tenant: tenant, dimension: outcome.rawValue)
        }
        return .finished(status, error: error)
    }

    /// Creates the run `new` in `transaction`: true when it runs, false when a limit holds it back (queued); throws
    /// `RunExistsAlready` when it exists.
    private func start(_ new: NewWorkflowRun, in transaction: TenantTransaction) async throws -> Bool {
        let start = NewWorkflowRunStart(run: new, workflowLimit: definition.limits.maxConcurrentRuns)
        guard let running = try await transaction.startNewWorkflowRuns([start], tenantLimit: runner.settings.maxConcurrentRunsPerTenant)[new.id]
        else { throw RunExistsAlready() }
        if running { runner.metrics?.runStarted() }
        return running
    }

    /// The value, or a note of its size when its JSON is larger than the cap.
    private func capped(_ value: JSONValue) -> JSONValue {
        let size = value.serialized().count
        guard size > runner.settings.maxOutputBytes else { return value }
        return .object(["truncated": .bool(true), "bytes": .number(Double(size))])
    }

    /// An error as stored: no NUL (PostgreSQL text refuses it) and at most 1,000 characters.
    static func clean(_ message: String) -> String {
        String(message.replacing("\u{0}", with: "").prefix(1_000))
    }

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    private static let queryAllowed: CharacterSet = {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return allowed
    }()

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? text
    }
}

/// The run an attempt meant to create was created queued: a limit of running runs holds it back.
struct RunHeldBack: Error {}

/// The run an attempt meant to create exists: an earlier claim of its job created it.
struct RunExistsAlready: Error {}

/// A step that cannot do what it says (its destination or integration is gone); the run fails with the message.
struct StepRefused: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension JSONValue {
    /// A string, number or boolean as text (a query parameter, a header value).
    var scalarText: String? {
        switch self {
        case .string(let text): text
        case .number: self.text
        case .bool(let flag): flag ? "true" : "false"
        default: nil
        }
    }
}
