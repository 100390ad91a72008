import Foundation
import HTTPTypes
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres

/// How a run's attempt ended, for the job that carried it.
public enum SyncRunOutcome: Sendable {
    /// The run completed, or had ended already, or another attempt owns it now.
    case done
    /// The run failed for good; it is recorded as failed with this message.
    case failed(String)
    /// Try the same page again later (the run stays `running` with this error noted).
    case retry(String, after: Duration?)
    /// The attempt's time is up with pages left: continue from the next page in a new attempt.
    case continuing(String)
}

/// Runs a sync: page after page through the integration's provider, each page written and checkpointed in one
/// transaction, then (a full run) deleting what no page named, and the run's end recorded with its events.
///
/// A run's pages are committed in order and the run's page count moves in the same transaction, guarded by the
/// count the attempt started from: an executor killed mid-run resumes at the first uncommitted page, and an old
/// attempt still running somewhere cannot write a page twice.
public struct SyncRunner: Sendable {
    let database: Database
    let caller: IntegrationCaller
    /// Counts the records a completed run changed in the tenant's usage.
    let usage: UsageMeter?

    public init(database: Database, caller: IntegrationCaller, usage: UsageMeter? = nil) {
        self.database = database
        self.caller = caller
        self.usage = usage
    }

    /// Runs, or continues, run `runID` of `payload`'s sync. `isLastAttempt`: a transient failure fails the run.
    /// `until`: no page starts after it (the attempt then ends `continuing`); the first page always does.
    public func run(
        _ runID: UUID,
        payload: SyncRunPayload,
        tenant: TenantID,
        isLastAttempt: Bool,
        until: ContinuousClock.Instant? = nil,
        logger: Logger
    ) async throws -> SyncRunOutcome {
        var logger = logger
        logger[metadataKey: "sync"] = "\(payload.sync)"
        logger[metadataKey: "sync_run_id"] = "\(runID.lowercasedString)"
        let loaded = try await database.withTenant(tenant, logger: logger) { transaction -> (SyncRunRecord, ResolvedSync?)? in
            guard let run = try await transaction.startSyncRun(runID), !run.status.isFinished,
                let integration = try await transaction.integration(payload.integrationID)
            else { return nil }
            return (run, try await SyncDirectory.sync(provider: integration.provider, name: payload.sync, in: transaction))
        }
        guard let (run, resolved) = loaded else { return .done }
        do {
            guard let resolved else {
                throw SyncRunFailure.permanent("The sync '\(payload.sync)' no longer exists for this integration's provider.")
            }
            guard resolved.version == run.definitionVersion else {
                throw SyncRunFailure.permanent(
                    "The sync's definition changed during the run (version \(run.definitionVersion) to \(resolved.version)); the next run uses the new one."
                )
            }
            let target: IntegrationCaller.Target
            do {
                target = try await caller.target(payload.integrationID, tenant: tenant, logger: logger)
            } catch let error as SwitchyardError {
                throw SyncRunFailure.permanent(error.detail)
            }
            let pass = SyncRunPass(runner: self, run: run, definition: resolved.definition, target: target, logger: logger)
            let committed = try await pass.readPages(until: until)
            guard committed.finished else {
                logger.info("sync run continues in its next attempt", metadata: ["pages": "\(committed.pages)"])
                return .continuing("\(committed.pages) pages committed; the run continues from the next one")
            }
            let finished = try await database.withTenant(tenant, logger: logger) {
                try await SyncRunEnd.complete(run, definition: resolved.definition, in: $0)
            }
            if let finished {
                usage?.record(.syncRecords, tenant: tenant, dimension: finished.model, count: finished.added + finished.updated + finished.deleted)
                logger.info(
                    "sync run completed",
                    metadata: [
                        "pages": "\(finished.pages)", "added": "\(finished.added)", "updated": "\(finished.updated)",
                        "deleted": "\(finished.deleted)", "unchanged": "\(finished.unchanged)",
                    ]
                )
            }
            return .done
        } catch is SyncRunSuperseded {
            logger.notice("another attempt of this sync run moved it on; this one stops")
            return .done
        } catch let failure as SyncRunFailure {
            if case .transient(let retryAfter) = failure.kind, !isLastAttempt {
                try await database.withTenant(tenant, logger: logger) { try await $0.noteSyncRunError(runID, error: failure.message) }
                logger.notice("sync run waits to retry", metadata: ["error": "\(failure.message)"])
                return .retry(failure.message, after: retryAfter)
            }
            try await database.withTenant(tenant, logger: logger) { try await SyncRunEnd.fail(run, error: failure.message, in: $0) }
            logger.warning("sync run failed", metadata: ["error": "\(failure.message)"])
            return .failed(failure.message)
        }
    }

    /// Calls the provider for one page: its answer whatever the status, or the call's failure as the run's.
    func send(
        _ request: SyncPageRequest,
        page number: Int,
        target: IntegrationCaller.Target,
        lease: CredentialLease,
        logger: Logger
    ) async throws -> OutboundResponse {
        var headers: HTTPFields = [.accept: "application/json"]
        if request.body != nil { headers[.contentType] = "application/json" }
        let response: OutboundResponse
        do {
            response = try await caller.send(
                target,
                method: request.method == .get ? .get : .post,
                url: request.url,
                headers: headers,
                body: request.body.map { ByteBuffer(string: $0) },
                // A sync's POST (a GraphQL query) only reads, so it is retried like a GET.
                retry: RetryPolicy(retryNonIdempotent: true),
                lease: lease,
                logger: logger
            )
        } catch let error as OutboundError {
            switch error.kind {
            case .rateLimited(let wait), .circuitOpen(let wait):
                throw SyncRunFailure.transient("Page \(number): \(error.description).", retryAfter: wait)
            default:
                guard error.outcome.isRetryable else { throw SyncRunFailure.page(number, error.description) }
                throw SyncRunFailure.transient("Page \(number): \(error.description).")
            }
        } catch let error as TokenEndpointError {
            throw SyncRunFailure.permanent("Page \(number): the access token could not be refreshed (\(error.description)).")
        } catch let error as SwitchyardError {
            throw SyncRunFailure.permanent("Page \(number): \(error.detail)")
        }
        return response
    }

    /// Sorts a page's answer by the outbound client's classes (RL-4): a 2xx is returned; anything else is a failure
    /// (a 401 marks the integration `needs_reauth` first).
    func check(_ response: OutboundResponse, page number: Int, target: IntegrationCaller.Target, logger: Logger) async throws -> OutboundResponse {
        let code = response.status.code
        if (200..<300).contains(code) { return response }
        if code == 401 {
            let reason = "the provider refused the integration's credential (401) while a sync read from it"
            try await database.withTenant(target.tenantID, logger: logger) { transaction in
                if try await transaction.integration(target.integration.id)?.status == .connected {
                    try await transaction.markNeedsReauth(target.integration.id, reason: reason)
                }
            }
            throw SyncRunFailure.permanent(
                "Page \(number): the provider refused the integration's credential (401); the integration needs re-authorization."
            )
        }
        switch response.outcome {
        case .rateLimited:
            throw SyncRunFailure.transient(
                "Page \(number): the provider's rate limit was reached (429).",
                retryAfter: RetryAfter.delay(in: response.headers, unixTime: Date().timeIntervalSince1970)
            )
        case .transient:
            throw SyncRunFailure.transient("Page \(number): the provider answered \(code).")
        default:
            // A 3xx too: the outbound client returns redirects rather than following them.
            throw SyncRunFailure.page(number, "the provider answered \(code)")
        }
    }
}
