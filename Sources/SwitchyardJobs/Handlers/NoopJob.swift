import SwitchyardCore

/// `noop`: does nothing (for `sleep_ms`, at most a minute) and succeeds. For the queue benchmark and for
/// checking a deployment, its executors and their shutdown end to end.
public struct NoopPayload: JobPayload {
    public static let kind = "noop"
    /// Free text, kept with the job for the caller's own bookkeeping.
    public var note: String?
    /// How long the job takes.
    public var sleepMilliseconds: Int?

    public init(note: String? = nil, sleepMilliseconds: Int? = nil) {
        self.note = note
        self.sleepMilliseconds = sleepMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case note
        case sleepMilliseconds = "sleep_ms"
    }
}

public struct NoopHandler: JobHandler {
    public init() {}

    public func run(_ payload: NoopPayload, context: JobContext) async throws {
        guard let sleep = payload.sleepMilliseconds, sleep > 0 else { return }
        try await Task.sleep(for: .milliseconds(min(sleep, 60_000)))
    }
}

extension JobRegistry {
    /// The kinds every Switchyard process knows.
    public static func standard() -> JobRegistry {
        var registry = JobRegistry()
        registry.register(NoopHandler(), tenantEnqueueable: true)
        return registry
    }
}
