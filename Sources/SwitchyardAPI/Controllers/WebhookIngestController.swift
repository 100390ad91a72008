import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardWebhooks

/// `POST /webhooks/{source_id}`: where providers deliver. No API key: the signature, checked with the
/// source's own secrets over the raw bytes, is the credential. 2xx only once the event is committed.
struct WebhookIngestController: Sendable {
    let ingestor: WebhookIngestor
    let metrics: WebhookMetrics

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("webhooks/{source_id}", use: receive)
    }

    @Sendable func receive(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let text = context.parameters.get("source_id"), let id = UUID(uuidString: text),
            let source = try await ingestor.source(id, logger: context.logger)
        else {
            metrics.recordRejected(reason: WebhookRejection.unknownSource.rawValue)
            throw WebhookRejection.unknownSource
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: source.maxBodyBytes)
        } catch {
            metrics.recordRejected(reason: WebhookRejection.tooLarge.rawValue)
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
