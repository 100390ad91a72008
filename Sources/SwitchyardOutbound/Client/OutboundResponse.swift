import HTTPTypes
import NIOCore

/// The provider's answer to the last attempt, body complete and within the size cap.
///
/// Every status is returned, including the 4xx and 5xx that ended the retries: ``outcome`` says which class it is.
public struct OutboundResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: ByteBuffer
    /// Attempts made, this one included.
    public var attempts: Int

    public init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer, attempts: Int) {
        self.status = status
        self.headers = headers
        self.body = body
        self.attempts = attempts
    }

    /// The RL-4 class of ``status``.
    public var outcome: OutboundOutcome { OutboundOutcome(status: status.code) }
}
