import SwitchyardCore

/// `noop`: does nothing and succeeds. For the queue benchmark and for checking a deployment end to end.
public struct NoopPayload: JobPayload {
    public static let kind = "noop"
    /// Free text, kept with the job for the caller's own bookkeeping.
    public var note: String?

    public init(note: String? = nil) {
        self.note = note
    }
}

public struct NoopHandler: JobHandler {
    public init() {}

    public func run(_ payload: NoopPayload, context: JobContext) async throws {}
}

extension JobRegistry {
    /// The kinds every Switchyard process knows.
    public static func standard() -> JobRegistry {
        var registry = JobRegistry()
        registry.register(NoopHandler(), tenantEnqueueable: true)
        return registry
    }
}
