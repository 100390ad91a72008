import Foundation
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres

/// A source as ingestion needs it: its tenant, scheme and opened secrets.
public struct ResolvedWebhookSource: Sendable {
    public let tenantID: TenantID
    public let id: UUID
    public let scheme: WebhookScheme
    public let integrationID: UUID?
    public let maxBodyBytes: Int
    let secrets: [WebhookSigningSecret]

    /// The secrets still within their grace period at `now` (REQUIREMENTS WH-3; issue 12, item 6).
    func usableSecrets(at now: Date) -> [String] {
        secrets.filter { $0.isUsable(at: now) }.map(\.value)
    }
}

/// What a delivery came to.
public enum WebhookIngestResult: Sendable, Equatable {
    case recorded(id: UUID)
    case duplicate
    /// A handshake (Slack's `url_verification`): answer with the challenge, store nothing.
    case challenge(String)
}

/// Verifies deliveries with their source's secrets and hands them to the group-commit writer.
///
/// Sources and their opened secrets are cached for `cacheTTL` so the hot path does no lookup per delivery;
/// a secret added or expired through the API reaches other processes within that time (this process at once).
/// A busy source is loaded again in the background in the last fifth of its entry's life, so that its deliveries do
/// not wait for the load.
public final class WebhookIngestor: Sendable {
    private let database: Database
    private let writer: WebhookIngestWriter
    private let metrics: WebhookMetrics?
    private let usage: UsageMeter?
    private let clock = ContinuousClock()
    private let cache: ExpiringCache<UUID, CachedSource>
    static let maxCachedSources = 10_000

    /// A source as it was loaded, or that there is none (cached too).
    private struct CachedSource: Sendable {
        let source: ResolvedWebhookSource?
    }

    public init(
        database: Database,
        writer: WebhookIngestWriter,
        metrics: WebhookMetrics?,
        usage: UsageMeter? = nil,
        cacheTTL: Duration = .seconds(5)
    ) {
        self.database = database
        self.writer = writer
        self.metrics = metrics
        self.usage = usage
        self.cache = ExpiringCache(timeToLive: cacheTTL, refreshAhead: cacheTTL / 5, capacity: Self.maxCachedSources)
    }

    /// The source behind an ingest URL, or nil (also cached, so guessing ids costs the database nothing).
    ///
    /// When a busy source's entry expires, the deliveries arriving meanwhile share one load: each loading it (two
    /// transactions and the secrets' unsealing, for every one of hundreds of connections at once, every `cacheTTL`)
    /// was a burst in `bench ingest`'s paced latency.
    public func source(_ id: UUID, logger: Logger) async throws -> ResolvedWebhookSource? {
        try await cache.value(for: id) { [self] in CachedSource(source: try await load(id, logger: logger)) }.source
    }

    /// Forgets a cached source after its configuration or secrets changed.
    public func invalidate(_ id: UUID) {
        cache.remove(id)
    }

    private func load(_ id: UUID, logger: Logger) async throws -> ResolvedWebhookSource? {
        guard let record = try await database.withOperator(logger: logger, { try await $0.webhookSourceForIngest(id) }) else { return nil }
        let scheme = try WebhookScheme.stored(record.scheme, source: id)
        let secrets = try await database.withTenant(record.tenantID, logger: logger) { try await $0.activeWebhookSecrets(of: id) }
        return ResolvedWebhookSource(
            tenantID: record.tenantID,
            id: record.id,
            scheme: scheme,
            integrationID: record.integrationID,
            maxBodyBytes: record.maxBodyBytes,
            secrets: secrets
        )
    }

    /// Verifies and records one delivery; returns once it is committed. Refusals throw `WebhookRejection`.
    public func ingest(
        _ body: ByteBuffer,
        headers: [String: String],
        into source: ResolvedWebhookSource,
        logger: Logger
    ) async throws -> WebhookIngestResult {
        let started = clock.now
        let delivery: VerifiedDelivery
        do {
            delivery = try WebhookVerifier(scheme: source.scheme).verify(
                body: Array(body.readableBytesView),
                headers: headers,
                secrets: source.usableSecrets(at: Date())
            )
        } catch {
            rejected(error, source: source)
            logger.info("webhook delivery refused", metadata: ["source_id": "\(source.id)", "reason": "\(error.rawValue)"])
            throw error
        }
        if let challenge = delivery.challenge { return .challenge(challenge) }
        let event = NewWebhookEvent(
            tenantID: source.tenantID,
            sourceID: source.id,
            eventID: delivery.eventID,
            eventType: delivery.eventType,
            integrationID: source.integrationID,
            headers: Self.storedHeaders(headers, scheme: source.scheme),
            body: body
        )
        let outcome = try await writer.record(event)
        metrics?.recordAcknowledgement(clock.now - started)
        switch outcome {
        case .recorded:
            metrics?.recordReceived(scheme: source.scheme.type)
            usage?.record(.webhooksReceived, tenant: source.tenantID, dimension: source.scheme.type)
            return .recorded(id: event.id)
        case .duplicate:
            metrics?.recordDuplicate()
            usage?.record(.webhooksReceived, tenant: source.tenantID, dimension: source.scheme.type)
            return .duplicate
        }
    }

    /// Counts a refused delivery: in the metrics, and in the tenant's usage when its source is known.
    public func rejected(_ rejection: WebhookRejection, source: ResolvedWebhookSource?) {
        metrics?.recordRejected(reason: rejection.rawValue)
        if let source { usage?.record(.webhooksRejected, tenant: source.tenantID, dimension: rejection.rawValue) }
    }

    /// Headers kept with the event, as a JSON object: signatures and anything that authenticates replaced by
    /// `[redacted]`. Written by hand: this runs for every delivery and JSONEncoder is the slow part of it.
    static func storedHeaders(_ headers: [String: String], scheme: WebhookScheme) -> String {
        // The source's own signature headers: a generic HMAC source may name its header anything.
        let signatureHeaders = scheme.signatureHeaders
        var json = "{"
        json.reserveCapacity(512)
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            if json.utf8.count > 1 { json += "," }
            let redacted = Self.carriesCredential(name) || signatureHeaders.contains(name)
            json += JSONString.quoted(name) + ":" + JSONString.quoted(redacted ? "[redacted]" : value)
        }
        return json + "}"
    }

    /// Whether a header carries a signature or a credential whatever scheme sent it: by its name, or by its words
    /// (every built-in scheme's signature header has `signature` or `hmac` in its name, Svix's included).
    static func carriesCredential(_ name: String) -> Bool {
        credentialHeaders.contains(name) || credentialWordBytes.contains { UTF8Search.contains($0, in: name) }
    }

    static let credentialHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie"]
    static let credentialWords = ["signature", "hmac", "secret", "token", "password", "api-key", "apikey"]
    static let credentialWordBytes = credentialWords.map { Array($0.utf8) }

    /// Lower-case header names, repeated headers joined with ", ".
    public static func headerDictionary(_ pairs: some Sequence<(name: String, value: String)>) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in pairs {
            let key = name.lowercased()
            result[key] = result[key].map { "\($0), \(value)" } ?? value
        }
        return result
    }
}

/// A byte search for the hot path. With Foundation imported, `String.contains(String)` is NSString's search, and the
/// standard library's `firstRange(of:)` on UTF-8 views runs unspecialized generic code: either took a third or more
/// of a delivery's CPU in `bench ingest`'s profile, for header names of a few dozen bytes.
enum UTF8Search {
    static func contains(_ needle: [UInt8], in text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard !needle.isEmpty, bytes.count >= needle.count else { return needle.isEmpty }
            var start = 0
            while start <= bytes.count - needle.count {
                var offset = 0
                while offset < needle.count, bytes[start + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return true }
                start += 1
            }
            return false
        }
    }
}

/// JSON string literals without JSONEncoder.
enum JSONString {
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
