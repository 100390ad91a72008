import Foundation

/// How an integration has been doing lately (REQUIREMENTS RL-7), kept in `integrations.health`.
public struct IntegrationHealth: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case healthy, degraded, down
    }

    /// The share of recent attempts that succeeded, from 0 to 1.
    public var score: Double
    public var status: Status
    /// Why, in a sentence a tenant can act on.
    public var reason: String
    public var updatedAt: Date

    public init(score: Double, status: Status, reason: String, updatedAt: Date) {
        self.score = score
        self.status = status
        self.reason = reason
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case score, status, reason
        case updatedAt = "updated_at"
    }

    /// Scores recent attempts: `down` when the latest three all failed or fewer than half succeeded,
    /// `degraded` below nine in ten, otherwise `healthy`. `outcomes` is newest first, true for success.
    public static func evaluate(outcomes: [Bool], lastError: String?, at now: Date) -> IntegrationHealth? {
        guard !outcomes.isEmpty else { return nil }
        let successes = outcomes.filter { $0 }.count
        let score = Double(successes) / Double(outcomes.count)
        let failed = outcomes.count - successes
        let failing = outcomes.count >= 3 && outcomes.prefix(3).allSatisfy { !$0 }
        let status: Status = failing || score < 0.5 ? .down : score < 0.9 ? .degraded : .healthy
        var reason =
            failed == 0
            ? "All \(outcomes.count) recent attempts succeeded."
            : "\(failed) of the last \(outcomes.count) attempts failed\(failing ? ", including the latest three" : "")."
        if failed > 0, let lastError { reason += " Last error: \(lastError.prefix(300))" }
        return IntegrationHealth(score: (score * 1000).rounded() / 1000, status: status, reason: reason, updatedAt: now)
    }
}
