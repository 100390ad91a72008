import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardWebhooks

/// `POST /webhooks/{source_id}`: where providers deliver. No API key: the signature, checked with the
/// source's own secrets over the raw bytes, is the credential. 2xx only once the event is committed.
struct WebhookIngestController: Sendable {
    let ingestor: WebhookIngestor

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("webhooks/{source_id}", use: receive)
    }

    @Sendable func receive(_ request: Request, context: AppRequestContext) async throws -> Response {
        var resolved: ResolvedWebhookSource?
        do {
            if let id = UUID(uuidString: context.parameters.get("source_id") ?? "") {
                resolved = try await ingestor.source(id, logger: context.logger)
            }
        } catch is SecretUnreadable {
            // Logged, audited and counted where it was found; the sender only learns to come back later (its
            // retries are delivered once the tenant enters the secret again), not what is wrong with the tenant.
            throw SwitchyardError(.unavailable, code: "service-unavailable", detail: "This endpoint cannot verify deliveries right now; retry later.")
        }
        guard let source = resolved else {
            ingestor.rejected(.unknownSource, source: nil)
            throw WebhookRejection.unknownSource
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: source.maxBodyBytes)
        } catch {
            ingestor.rejected(.tooLarge, source: source)
            throw SwitchyardError(
                .payloadTooLarge(limit: source.maxBodyBytes),
                code: "payload-too-large",
                detail: "The webhook body is larger than this source's \(source.maxBodyBytes) bytes."
            )
        }
        let headers = WebhookIngestor.headerDictionary(request.headers.map { (name: $0.name.canonicalName, value: $0.value) })
        switch try await ingestor.ingest(body, headers: headers, into: source, logger: context.logger) {
        case .recorded(let eventID):
            // Built by hand: the hot path's answer is fixed apart from a UUID.
            return Self.json(#"{"id":"\#(eventID.lowercasedString)","status":"recorded"}"#)
        case .duplicate:
            return Self.json(#"{"status":"duplicate"}"#)
        case .challenge(let challenge):
            return try HTTPPayload.json(["challenge": challenge]).response
        }
    }

    static func json(_ text: String) -> Response {
        HTTPPayload(status: .ok, headers: [.contentType: "application/json"], body: Array(text.utf8)).response
    }
}
