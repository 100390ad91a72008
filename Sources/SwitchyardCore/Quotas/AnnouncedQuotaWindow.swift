/// What a provider's rate-limit headers announced of its current window, as one process reports it to the quota the
/// processes share (issue 18).
///
/// The provider counted the request at some instant between its sending and its answer's arrival, so the window's end
/// is known only within that round trip (plus a margin for the provider's rounding): tokens of the window are spent
/// only before its earliest possible end, and the next window is probed only after its latest. A request in flight
/// across the end is then counted in the window that granted it, or before the probe whose announcement opens the next.
public struct AnnouncedQuotaWindow: Sendable, Equatable {
    /// The lowest `remaining` announced.
    public var remaining: Int
    /// How long from now the window's tokens may still be spent: until its earliest possible end (negative when past).
    public var spendableFor: Duration
    /// How long from now until the window has ended for certain: its latest possible end.
    public var endsIn: Duration

    public init(remaining: Int, spendableFor: Duration, endsIn: Duration) {
        self.remaining = remaining
        self.spendableFor = spendableFor
        self.endsIn = endsIn
    }
}
