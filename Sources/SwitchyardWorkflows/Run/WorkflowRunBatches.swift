import Foundation
import Logging
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres

/// The run engine's writes that many runs make at the same moment, each a `TenantBatcher`: a busy tenant's runs
/// share transactions and statements instead of paying a commit each.
public struct WorkflowRunBatches: Sendable {
    /// The ends of runs: their last steps, final status and event.
    public let finishes: TenantBatcher<WorkflowRunFinish, Void>
    /// The first write of an event's run whose first effect is an http step: the run created, the steps before it and
    /// the step as running, and the call's target read.
    let httpStarts: TenantBatcher<HTTPStart, HTTPStartOutcome>

    struct HTTPStart: Sendable {
        let start: NewWorkflowRunStart
        let integrationID: UUID
        /// Receives the integration's credential.
        let lease: CredentialLease
    }

    enum HTTPStartOutcome: Sendable {
        /// The run was created running; the target as it was read (a failure is the step's to judge).
        case started(Result<IntegrationCaller.Target, any Error>)
        /// The run was created queued: a limit holds it back.
        case held
        /// The run existed; nothing was written.
        case exists
    }

    public init(database: Database, caller: IntegrationCaller, tenantLimit: Int) {
        finishes = TenantBatcher { tenant, batch, logger in
            await eachAloneOnFailure(batch, tenant: tenant, logger: logger) { finishes in
                try await database.withTenant(tenant, logger: logger) { try await $0.finishWorkflowRuns(finishes) }
                return finishes.map { _ in () }
            }
        }
        httpStarts = TenantBatcher { tenant, batch, logger in
            await eachAloneOnFailure(batch, tenant: tenant, logger: logger) { batch in
                try await database.withTenant(tenant, logger: logger) { transaction in
                    let running = try await transaction.startNewWorkflowRuns(batch.map(\.start), tenantLimit: tenantLimit)
                    // Each integration is read once for the batch (most runs of a busy workflow call the same one).
                    var targets: [UUID: (Result<IntegrationCaller.Target, any Error>, CredentialLease)] = [:]
                    var outcomes: [HTTPStartOutcome] = []
                    for request in batch {
                        guard let runs = running[request.start.run.id] else {
                            outcomes.append(.exists)
                            continue
                        }
                        guard runs else {
                            outcomes.append(.held)
                            continue
                        }
                        if let (target, lease) = targets[request.integrationID] {
                            request.lease.hold(sameAs: lease)
                            outcomes.append(.started(target))
                            continue
                        }
                        let target: Result<IntegrationCaller.Target, any Error>
                        do {
                            target = .success(try await caller.target(request.integrationID, in: transaction, lease: request.lease))
                        } catch let error where !(error is SecretUnreadable) {
                            // Judged as the step's outcome; a secret that does not open leaves the transaction, to be
                            // reported as a security event.
                            target = .failure(error)
                        }
                        targets[request.integrationID] = (target, request.lease)
                        outcomes.append(.started(target))
                    }
                    return outcomes
                }
            }
        }
    }
}

/// Writes `batch` with `write`; when that fails and the batch held several requests, writes each alone, so that one
/// request's bad write fails only that request. Not when the database is unavailable (down, or a statement timed
/// out): each alone would wait out its own deadline, one after another.
private func eachAloneOnFailure<Request: Sendable, Response: Sendable>(
    _ batch: [Request],
    tenant: TenantID,
    logger: Logger,
    _ write: ([Request]) async throws -> [Response]
) async -> [Result<Response, any Error>] {
    do {
        return try await write(batch).map { .success($0) }
    } catch {
        let unavailable = (error as? SwitchyardError)?.kind == .unavailable
        guard batch.count > 1, !unavailable, !(error is CancellationError) else { return batch.map { _ in .failure(error) } }
        var results: [Result<Response, any Error>] = []
        for request in batch {
            do {
                results.append(.success(try await write([request])[0]))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }
}
