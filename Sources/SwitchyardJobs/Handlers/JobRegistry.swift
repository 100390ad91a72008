import Foundation
import SwitchyardCore
import SwitchyardOutbound
import SwitchyardPostgres

/// The job kinds a process can run, each with its handler and payload type.
public struct JobRegistry: Sendable {
    struct Entry: Sendable {
        let run: @Sendable (ClaimedJob, JobContext) async throws -> Void
        /// Decodes a payload as the handler would and re-encodes it, or throws why it cannot be read.
        let normalise: @Sendable (Data) throws -> (json: String, version: Int)
        let tenantEnqueueable: Bool
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    /// Registers `handler` for its payload's kind. `tenantEnqueueable` lets tenants enqueue and schedule
    /// the kind through the API; platform kinds (token refresh, pruning) stay internal.
    public mutating func register<Handler: JobHandler>(_ handler: Handler, tenantEnqueueable: Bool = false) {
        entries[Handler.Payload.kind] = Entry(
            run: { job, context in
                let payload: Handler.Payload
                do {
                    payload = try Handler.Payload.decode(version: job.payloadVersion, from: Data(job.payload.utf8))
                } catch {
                    throw JobFailure.permanent("the payload cannot be read: \(error)")
                }
                try await handler.run(payload, context: context)
            },
            normalise: { json in
                let payload = try Handler.Payload.decode(version: Handler.Payload.version, from: json)
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                return (String(decoding: try encoder.encode(payload), as: UTF8.self), Handler.Payload.version)
            },
            tenantEnqueueable: tenantEnqueueable
        )
    }

    /// Every registered kind, sorted.
    public var kinds: [String] { entries.keys.sorted() }

    /// The kinds tenants may enqueue and schedule, sorted.
    public var tenantKinds: [String] { entries.filter(\.value.tenantEnqueueable).keys.sorted() }

    func entry(for kind: String) -> Entry? { entries[kind] }

    /// Checks a tenant-supplied payload for `kind` by decoding it as the handler will; returns it in
    /// canonical form with the version to store.
    public func tenantPayload(kind: String, json: Data) throws -> (json: String, version: Int) {
        guard let entry = entries[kind], entry.tenantEnqueueable else {
            throw SwitchyardError.validation("Unknown job kind '\(kind)'. Kinds: \(tenantKinds.joined(separator: ", ")).")
        }
        do {
            return try entry.normalise(json)
        } catch {
            throw SwitchyardError.validation("The payload does not fit the '\(kind)' job: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "the field '\(key.stringValue)' is required."
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context), DecodingError.dataCorrupted(let context):
            "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type."
        default: "it is not valid."
        }
    }
}

extension JobFailure {
    /// The failure class of an error a handler let through (REQUIREMENTS RL-4): `JobFailure` as it says,
    /// outbound failures by their outcome (rate limits and open circuits keep their wait), anything else transient.
    static func classify(_ error: any Error) -> JobFailure {
        if let failure = error as? JobFailure { return failure }
        if let outbound = error as? OutboundError {
            switch outbound.kind {
            case .rateLimited(let wait), .circuitOpen(let wait): return .transient(outbound.description, retryAfter: wait)
            default: return outbound.outcome.isRetryable ? .transient(outbound.description) : .permanent(outbound.description)
            }
        }
        if let problem = error as? SwitchyardError { return .transient(problem.reason ?? problem.detail) }
        if let convertible = error as? any SwitchyardErrorConvertible { return .transient(convertible.switchyardError.detail) }
        if let refused = error as? ItemRefusedByDatabase { return .permanent(refused.description) }
        if let database = operatorDescription(of: error) {
            // The same statement with the same data fails the same way: not worth retrying.
            return isDeterministicDatabaseFailure(error) ? .permanent(database) : .transient(database)
        }
        return .transient(String(describing: type(of: error)))
    }
}
