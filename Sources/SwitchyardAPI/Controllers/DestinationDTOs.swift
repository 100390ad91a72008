import Foundation
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardDestinations
import SwitchyardPostgres
import SwitchyardProviders

/// `POST /v1/destinations`.
extension Components.Schemas.DestinationCreate: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        try DestinationRules.validate(url: url)
        try DestinationRules.validate(description: description)
        try DestinationRules.validate(headers: headers)
        _ = try DestinationRules.filter(filter)
        try DestinationRules.validate(rateLimitPerSecond: rateLimitPerSecond, maxConcurrency: maxConcurrency)
    }

    /// The settings to store; `validate()` checked them.
    var settings: DestinationSettings {
        get throws(SwitchyardError) {
            DestinationSettings(
                url: url,
                description: description ?? "",
                headers: headers?.additionalProperties ?? [:],
                filter: try DestinationRules.filter(filter),
                ordered: ordered ?? false,
                orderingKey: orderingKey.map(DestinationOrderingKey.init) ?? .integrationID,
                rateLimitPerSecond: rateLimitPerSecond,
                maxConcurrency: maxConcurrency
            )
        }
    }
}

/// `PATCH /v1/destinations/{id}`: the generated body, and which limits it removes. The generated type reads
/// `"rate_limit_per_second": null` and a body without it alike (both `nil`), where the document gives them different
/// meanings, as `WebhookSourcePatch` explains.
struct DestinationPatch: StrictJSONBody {
    static let nullableFields: Set<String> = ["rate_limit_per_second", "max_concurrency"]
    let update: Components.Schemas.DestinationUpdate
    /// `"rate_limit_per_second": null`; leaving it out keeps the limit.
    let clearsRateLimit: Bool
    /// `"max_concurrency": null`; leaving it out keeps the limit.
    let clearsMaxConcurrency: Bool

    init(from decoder: any Decoder) throws {
        update = try Components.Schemas.DestinationUpdate(from: decoder)
        let container = try decoder.container(keyedBy: Components.Schemas.DestinationUpdate.CodingKeys.self)
        clearsRateLimit = try container.contains(.rateLimitPerSecond) && container.decodeNil(forKey: .rateLimitPerSecond)
        clearsMaxConcurrency = try container.contains(.maxConcurrency) && container.decodeNil(forKey: .maxConcurrency)
    }

    static func precheck(_ members: [String: Any]) throws(SwitchyardError) {
        guard !members.isEmpty else {
            throw .validation(
                "Send at least one of: url, description, headers, filter, ordered, ordering_key, rate_limit_per_second, max_concurrency."
            )
        }
    }

    func validate() throws(SwitchyardError) {
        if let url = update.url { try DestinationRules.validate(url: url) }
        try DestinationRules.validate(description: update.description)
        try DestinationRules.validate(headers: update.headers)
        _ = try DestinationRules.filter(update.filter)
        try DestinationRules.validate(rateLimitPerSecond: update.rateLimitPerSecond, maxConcurrency: update.maxConcurrency)
    }

    /// The destination's settings after this patch; `replacingHeaders` when the body has `headers`.
    func settings(replacing current: DestinationRecord) throws(SwitchyardError) -> (settings: DestinationSettings, replacingHeaders: Bool) {
        let settings = DestinationSettings(
            url: update.url ?? current.url,
            description: update.description ?? current.description,
            headers: update.headers?.additionalProperties ?? [:],
            filter: update.filter == nil ? current.filter : try DestinationRules.filter(update.filter),
            ordered: update.ordered ?? current.ordered,
            orderingKey: update.orderingKey.map(DestinationOrderingKey.init) ?? current.orderingKey,
            rateLimitPerSecond: clearsRateLimit ? nil : update.rateLimitPerSecond ?? current.rateLimitPerSecond,
            maxConcurrency: clearsMaxConcurrency ? nil : update.maxConcurrency ?? current.maxConcurrency
        )
        return (settings, update.headers != nil)
    }
}

/// `POST /v1/destinations/{id}/rotate-secret` (the body is optional).
extension Components.Schemas.DestinationSecretRotation: StrictJSONBody {
    static let defaultGracePeriodSeconds = 86_400

    func validate() throws(SwitchyardError) {
        if let gracePeriodSeconds, !(0...604_800).contains(gracePeriodSeconds) {
            throw .validation("grace_period_seconds must be from 0 to 604800 (7 days).")
        }
    }
}

/// `POST /v1/destinations/{id}/disable` (the body is optional).
extension Components.Schemas.DestinationDisable: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        if let reason, !(1...500).contains(reason.codePointCount) { throw .validation("reason must be 1 to 500 characters.") }
    }
}

/// `POST /v1/destinations/{id}/replay`.
extension Components.Schemas.DestinationReplay: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        if let until, until <= since { throw .validation("until must be later than since.") }
    }
}

/// The rules of a destination's settings that a schema cannot state, with messages that name the field.
enum DestinationRules {
    static let maxHeaders = 20
    static let maxFilterEntries = 100
    /// The headers a delivery sets itself (the Standard Webhooks ones, the body's framing and type, who sends it),
    /// and transport headers, which a tenant's value would break or smuggle a second request into.
    static let reservedHeaderNames: Set<String> = [
        "content-type", "content-length", "content-encoding", "host", "user-agent", "transfer-encoding", "connection",
        "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "upgrade", "expect", "cookie",
    ]

    /// The form of the URL; where it leads is `DestinationActions.checkReachable`'s (the SSRF guard resolves it).
    static func validate(url: String) throws(SwitchyardError) {
        guard (8...2048).contains(url.utf8.count) else { throw .validation("url must be 8 to 2048 characters.") }
        // RFC 3986 characters only: no spaces or Unicode for the URL parsers to read two ways.
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=%".utf8)
        guard url.utf8.allSatisfy(allowed.contains) else {
            throw .validation("url must be an absolute https URL of RFC 3986 characters (percent-encode the others).")
        }
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), ["https", "http"].contains(scheme),
            let host = parsed.host, !host.isEmpty
        else {
            throw .validation("url must be an absolute https URL such as https://hooks.example.com/switchyard.")
        }
        guard parsed.fragment == nil else { throw .validation("url must not have a fragment (#...).") }
    }

    static func validate(description: String?) throws(SwitchyardError) {
        if let description, description.codePointCount > 500 { throw .validation("description must be at most 500 characters.") }
    }

    static func validate(headers: Components.Schemas.DestinationHeaders?) throws(SwitchyardError) {
        guard let headers = headers?.additionalProperties else { return }
        guard headers.count <= maxHeaders else { throw .validation("headers may have at most \(maxHeaders) entries.") }
        var seen: Set<String> = []
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            let field = "headers.\(String(name.prefix(100)))"
            guard HTTPToken.isHeaderName(name) else {
                throw .validation("The field '\(field)' is not valid: a header name is 1 to 100 token characters (RFC 9110).")
            }
            let lowered = name.lowercased()
            guard !reservedHeaderNames.contains(lowered), !lowered.hasPrefix("webhook-") else {
                throw .validation(
                    "The field '\(field)' is not valid: deliveries set webhook-*, Content-Type, User-Agent and the transport headers themselves."
                )
            }
            guard seen.insert(lowered).inserted else {
                throw .validation("The field '\(field)' is not valid: it is given twice (names ignore case).")
            }
            guard HTTPToken.isPrintable(value, maximumLength: 1000) else {
                throw .validation("The field '\(field)' is not valid: a value is at most 1000 printable ASCII characters.")
            }
        }
    }

    static func validate(rateLimitPerSecond: Int?, maxConcurrency: Int?) throws(SwitchyardError) {
        if let rateLimitPerSecond, !(1...100_000).contains(rateLimitPerSecond) {
            throw .validation("rate_limit_per_second must be from 1 to 100000.")
        }
        if let maxConcurrency, !(1...1000).contains(maxConcurrency) { throw .validation("max_concurrency must be from 1 to 1000.") }
    }

    /// The filter to store (each list without repeats), or a 422 naming the entry that is not valid.
    static func filter(_ input: Components.Schemas.DestinationFilterInput?) throws(SwitchyardError) -> DestinationFilter {
        guard let input else { return DestinationFilter() }
        let eventTypes = input.eventTypes ?? []
        let integrationIDs = input.integrationIds ?? []
        let providers = input.providers ?? []
        for (name, count) in [("event_types", eventTypes.count), ("integration_ids", integrationIDs.count), ("providers", providers.count)]
        where count > maxFilterEntries {
            throw .validation("filter.\(name) may have at most \(maxFilterEntries) entries.")
        }
        for (index, pattern) in eventTypes.enumerated() where !isEventTypePattern(pattern) {
            throw .validation(
                "The field 'filter.event_types[\(index)]' is not valid: an event type (integration.connected), a prefix and .* (integration.*), or *."
            )
        }
        var ids: [UUID] = []
        for (index, text) in integrationIDs.enumerated() { ids.append(try UUIDField.parse(text, field: "filter.integration_ids[\(index)]")) }
        for (index, provider) in providers.enumerated() where !isProviderID(provider) {
            throw .validation("The field 'filter.providers[\(index)]' is not valid: a provider id such as github (a-z, 0-9, _ and -).")
        }
        return DestinationFilter(eventTypes: unique(eventTypes), integrationIDs: unique(ids), providers: unique(providers))
    }

    /// `^([a-z_]+(\.[a-z_]+)*(\.\*)?|\*)$`: what `app_destination_matches` (migration 0023) reads.
    static func isEventTypePattern(_ pattern: String) -> Bool {
        if pattern == "*" { return true }
        guard pattern.utf8.count <= 200 else { return false }
        let exact = pattern.hasSuffix(".*") ? String(pattern.dropLast(2)) : pattern
        return exact.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { segment in
            !segment.isEmpty && segment.utf8.allSatisfy { (97...122).contains($0) || $0 == 95 }
        }
    }

    /// `^[a-z0-9][a-z0-9_-]{0,62}$`.
    static func isProviderID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        func isLowerAlphanumeric(_ byte: UInt8) -> Bool { (97...122).contains(byte) || (48...57).contains(byte) }
        guard let first = bytes.first, (1...63).contains(bytes.count), isLowerAlphanumeric(first) else { return false }
        return bytes.dropFirst().allSatisfy { isLowerAlphanumeric($0) || $0 == 95 || $0 == 45 }
    }

    private static func unique<Value: Hashable>(_ values: [Value]) -> [Value] {
        var seen: Set<Value> = []
        return values.filter { seen.insert($0).inserted }
    }
}

extension DestinationOrderingKey {
    init(_ key: Components.Schemas.DestinationOrderingKey) {
        switch key {
        case .integrationId: self = .integrationID
        case .eventType: self = .eventType
        }
    }
}

extension Components.Schemas.DestinationOrderingKey {
    init(_ key: DestinationOrderingKey) {
        switch key {
        case .integrationID: self = .integrationId
        case .eventType: self = .eventType
        }
    }
}

extension Components.Schemas.Destination {
    /// A destination as the API shows it: its headers' names, its secrets' ids; `secret` only in the response that
    /// generated it.
    init(_ record: DestinationRecord, secrets: [DestinationSecretRecord], secret: String? = nil) {
        self.init(
            id: record.id.lowercasedString,
            url: record.url,
            description: record.description,
            headerNames: record.headerNames,
            filter: .init(
                eventTypes: record.filter.eventTypes,
                integrationIds: record.filter.integrationIDs.map(\.lowercasedString),
                providers: record.filter.providers
            ),
            ordered: record.ordered,
            orderingKey: .init(record.orderingKey),
            rateLimitPerSecond: record.rateLimitPerSecond,
            maxConcurrency: record.maxConcurrency,
            enabled: record.enabled,
            disabledReason: record.disabledReason,
            disabledAt: record.disabledAt,
            failingSince: record.failingSince,
            secrets: secrets.map { .init(id: $0.id.lowercasedString, expiresAt: $0.expiresAt, createdAt: $0.createdAt) },
            secret: secret,
            createdAt: record.createdAt,
            updatedAt: record.updatedAt
        )
    }
}

extension Components.Schemas.DestinationList {
    init(_ page: Page<DestinationRecord>, secrets: [UUID: [DestinationSecretRecord]]) {
        self.init(data: page.items.map { .init($0, secrets: secrets[$0.id] ?? []) }, nextCursor: page.nextCursor?.token)
    }
}

extension Components.Schemas.DestinationReplayResult {
    init(_ replay: DeliveryReplay) {
        self.init(enqueued: replay.enqueued, capped: replay.capped, nextSince: replay.capped ? replay.lastEventAt : nil)
    }
}

extension Components.Schemas.Delivery {
    /// A delivery as the API shows it; its body and attempts when the record has them (one delivery, not a list).
    init(_ record: DeliveryRecord) throws {
        self.init(
            id: record.id.lowercasedString,
            destinationId: record.destinationID.lowercasedString,
            eventId: record.eventID.lowercasedString,
            eventType: record.eventType,
            webhookId: DestinationDelivery.webhookID(event: record.eventID),
            status: .init(record.state),
            attemptCount: record.attempts,
            maxAttempts: record.maxAttempts,
            nextAttemptAt: record.nextAttemptAt,
            lastError: record.lastError,
            createdAt: record.createdAt,
            finishedAt: record.finishedAt,
            updatedAt: record.updatedAt,
            body: record.body,
            attempts: try record.history?.map { try Components.Schemas.DeliveryAttempt($0, delivery: record.id) }
        )
    }
}

extension Components.Schemas.DeliveryAttempt {
    /// A job attempt with what the delivery handler recorded in its `detail`.
    init(_ attempt: JobAttempt, delivery: UUID) throws {
        guard let outcome = OutcomePayload(rawValue: attempt.outcome) else {
            throw SwitchyardError.internal("jobs.history of row \(delivery.lowercasedString) has the unknown outcome '\(attempt.outcome)'")
        }
        let detail = attempt.detail ?? [:]
        func integer(_ key: String) -> Int? {
            if case .number(let value)? = detail[key], let exact = Int(exactly: value.rounded()) { return exact }
            return nil
        }
        func text(_ key: String) -> String? {
            if case .string(let value)? = detail[key] { return value }
            return nil
        }
        self.init(
            attempt: attempt.attempt,
            outcome: outcome,
            error: attempt.error,
            startedAt: attempt.startedAt,
            finishedAt: attempt.finishedAt,
            retryAt: attempt.retryAt,
            status: integer("status"),
            responseBody: text("response_body"),
            durationMs: integer("duration_ms"),
            webhookId: text("webhook_id")
        )
    }
}

extension Components.Schemas.DeliveryStatus {
    init(_ state: JobState) {
        switch state {
        case .queued: self = .queued
        case .running: self = .running
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .dead: self = .dead
        case .cancelled: self = .cancelled
        }
    }
}

extension Components.Schemas.DeliveryList {
    init(_ page: Page<DeliveryRecord>) throws {
        self.init(data: try page.items.map(Components.Schemas.Delivery.init), nextCursor: page.nextCursor?.token)
    }
}
