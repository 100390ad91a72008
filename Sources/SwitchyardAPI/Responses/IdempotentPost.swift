import Crypto
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardPostgres

/// Runs a POST handler under `Idempotency-Key` semantics (REQUIREMENTS API-6, after Stripe):
/// the first response for a key is stored for 24 h and replayed for the same method, path and body;
/// the same key with a different request is 422, and while the first is still running, 409.
/// Without the header the handler simply runs.
struct IdempotentPost: Sendable {
    let database: Database
    let limits: LimitsConfiguration

    func respond(
        to request: Request,
        requestID: String,
        tenant: TenantID?,
        logger: Logger,
        handler: (ByteBuffer) async throws -> HTTPPayload
    ) async throws -> Response {
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        guard let key = request.headers[.idempotencyKey] else {
            return try await handler(body).response
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw SwitchyardError.invalidRequest("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        }
        var hasher = SHA256()
        hasher.update(data: Array("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        hasher.update(data: Array(body.readableBytesView))
        let requestHash = Array(hasher.finalize())

        switch try await database.claimIdempotencyKey(key, requestHash: requestHash, tenant: tenant, logger: logger) {
        case .replay(let stored):
            var payload = HTTPPayload(stored: stored)
            payload.headers[.idempotentReplayed] = "true"
            return payload.response
        case .mismatch:
            throw SwitchyardError(
                .unprocessable,
                code: "idempotency-key-reused",
                detail: "This Idempotency-Key was used with a different request. Use a new key for a new request."
            )
        case .inProgress:
            throw SwitchyardError(
                .conflict,
                code: "idempotency-key-in-use",
                detail: "A request with this Idempotency-Key is still being processed. Retry later."
            )
        case .proceed:
            let payload: HTTPPayload
            do {
                payload = try await handler(body)
            } catch let error as SwitchyardError where error.kind.statusCode < 500 {
                // The request was understood and refused: retrying it must give the same answer.
                payload = ProblemDetails.payload(for: error, requestID: requestID, logger: logger)
            } catch {
                // Worth retrying: forget the claim so the retry runs again.
                try? await database.releaseIdempotencyKey(key, tenant: tenant, logger: logger)
                throw error
            }
            try await database.completeIdempotentRequest(key, tenant: tenant, response: payload.stored, logger: logger)
            return payload.response
        }
    }
}
