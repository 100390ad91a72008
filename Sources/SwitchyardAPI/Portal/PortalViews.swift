import Foundation
import Hummingbird
import NIOCore
import SwitchyardCore
import SwitchyardPostgres

/// Records as the portal's templates show them: plain dictionaries of strings, numbers and flags.
enum PortalViews {
    static func integrationRow(_ integration: IntegrationRecord) -> [String: Any] {
        [
            "id": integration.id.lowercasedString, "name": integration.displayName, "provider": integration.provider,
            "status": integration.status.rawValue, "health": integration.health?.status.rawValue ?? "unknown",
            "healthReason": integration.health?.reason ?? "No jobs have run for it yet.",
        ]
    }

    /// The latest finished attempts of `jobs`, newest first: what the health score was computed from.
    static func recentAttempts(_ jobs: [JobRecord], limit: Int) -> [[String: Any]] {
        let attempts = jobs.flatMap { job in job.history.map { (kind: job.kind, attempt: $0) } }
            .sorted { $0.attempt.finishedAt > $1.attempt.finishedAt }
            .prefix(limit)
        return attempts.map {
            [
                "finished": time($0.attempt.finishedAt), "kind": $0.kind, "attempt": $0.attempt.attempt, "outcome": $0.attempt.outcome,
                "error": $0.attempt.error ?? "",
            ]
        }
    }

    static func webhookEventRow(_ event: WebhookEventRecord) -> [String: Any] {
        [
            "received": time(event.receivedAt), "type": event.eventType ?? "", "externalID": event.eventID, "status": event.status.rawValue,
            "error": event.lastError ?? "",
        ]
    }

    static func deadLetterRow(_ job: JobRecord) -> [String: Any] {
        [
            "id": job.id.lowercasedString, "kind": job.kind, "finished": time(job.finishedAt ?? job.updatedAt), "attempts": job.attempts,
            "error": job.lastError ?? "",
        ]
    }

    static func destinationRow(_ destination: DestinationRecord) -> [String: Any] {
        var row: [String: Any] = [
            "id": destination.id.lowercasedString, "url": destination.url, "description": destination.description,
            "enabled": destination.enabled, "state": destination.enabled ? "enabled" : "disabled",
            "eventTypes": destination.filter.eventTypes.joined(separator: ", "),
        ]
        // Absent rather than empty: an empty string still opens a Mustache section.
        if let reason = destination.disabledReason, !destination.enabled { row["disabledReason"] = reason }
        return row
    }

    static func deliveryRow(_ delivery: DeliveryRecord) -> [String: Any] {
        let history: [[String: Any]] = (delivery.history ?? []).map { attempt in
            var status = ""
            if case .number(let code)? = attempt.detail?["status"] { status = String(Int(code)) }
            var answer = ""
            if case .string(let body)? = attempt.detail?["response_body"] { answer = String(body.prefix(200)) }
            return [
                "attempt": attempt.attempt, "finished": time(attempt.finishedAt), "outcome": attempt.outcome, "status": status,
                "answer": answer, "error": attempt.error ?? "",
            ]
        }
        return [
            "id": delivery.id.lowercasedString, "created": time(delivery.createdAt), "eventType": delivery.eventType,
            "state": delivery.state.rawValue, "attempts": delivery.attempts, "history": history, "hasHistory": !history.isEmpty,
        ]
    }

    /// The counters that are failures, for the overview's chart.
    static func isFailure(_ row: UsageRow) -> Bool {
        switch (row.metric, row.dimension) {
        case (UsageMetric.jobs.rawValue, "retry"), (UsageMetric.jobs.rawValue, "dead"), (UsageMetric.deliveries.rawValue, "failed"),
            (UsageMetric.deliveries.rawValue, "dead"):
            true
        default: row.metric == UsageMetric.webhooksRejected.rawValue
        }
    }

    /// What the page after a redirect says: a fixed message per key (nothing from the URL is echoed).
    static func notice(_ request: Request) -> String? {
        switch request.uri.queryParameters["notice"].map(String.init) {
        case "redriven": "The job is queued again."
        case "saved": "The destination is saved."
        case "test-sent": "A test event is on its way."
        case "enabled": "The destination is enabled; what waited for it is delivered now."
        case "disabled": "The destination is disabled; its deliveries wait until it is enabled again."
        default: nil
        }
    }

    /// A destination form as the JSON body the API takes: the same decoding checks it.
    static func destinationJSON(_ form: [String: String]) -> ByteBuffer {
        var object: [String: Any] = [:]
        if let url = form["url"] { object["url"] = url.trimmingCharacters(in: .whitespaces) }
        if let description = form["description"], !description.isEmpty { object["description"] = description }
        if let types = form["event_types"] {
            let list = types.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            object["filter"] = ["event_types": list]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    /// `application/x-www-form-urlencoded` fields; a repeated name keeps its last value.
    static func parseForm(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    static func hour(_ date: Date) -> String {
        let components = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%02d:00", components.hour ?? 0)
    }

    static func time(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
