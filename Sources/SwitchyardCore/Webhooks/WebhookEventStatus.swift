/// Where a received webhook event is: recorded and waiting, routed, or given up on (the `webhook_events.status`
/// CHECK constraint names the same three).
public enum WebhookEventStatus: String, Sendable, CaseIterable {
    case received, processed, failed
}
