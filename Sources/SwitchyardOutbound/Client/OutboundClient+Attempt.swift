import AsyncHTTPClient
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A complete response to one attempt.
struct AttemptResponse: Sendable {
    var status: Int
    var headers: HTTPFields
    var body: ByteBuffer
}

/// Why one attempt produced no response, and whether the provider may have seen the request.
struct AttemptFailure: Error {
    var kind: OutboundError.Kind
    /// `false` when the connection was never established: even a POST may then be sent again.
    var mayHaveBeenSent: Bool
}

/// The per-attempt deadline fired.
private struct AttemptDeadlineExceeded: Error {}

extension OutboundClient {
    /// Headers the client or the connection owns: hop-by-hop (RFC 9110 §7.6.1), framing, and `Host`, which
    /// always follows the URL so that a caller-supplied value cannot steer virtual hosting.
    static let managedHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length",
    ]

    /// Sends one attempt and reads the whole body within the cap and the deadline.
    /// Throws ``AttemptFailure``, or `CancellationError` when the caller's task was cancelled.
    func performAttempt(_ request: OutboundRequest) async throws -> AttemptResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !Self.managedHeaders.contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if let body = request.body {
            outgoing.body = .bytes(body)
        }
        let prepared = outgoing
        let cap = configuration.maxResponseBytes
        let deadline = NIODeadline.now() + TimeAmount(configuration.attemptTimeout)
        do {
            // AsyncHTTPClient's deadline covers the connection and the response head.
            let response = try await http.execute(prepared, deadline: deadline)
            let declared = response.headers.first(name: "content-length").flatMap(Int.init)
            let expectsBody = request.method != .head
            if expectsBody, let declared, declared > cap {
                throw AttemptFailure(kind: .responseTooLarge(limit: cap), mayHaveBeenSent: true)
            }
            let head = (status: Int(response.status.code), headers: HTTPFields(response.headers))
            // The body, whose end the head already announced (a HEAD answer or a declared empty body, as many receivers
            // send) comes with it: nothing for a deadline to cover.
            if !expectsBody || declared == 0 {
                return AttemptResponse(status: head.status, headers: head.headers, body: try await Self.read(response.body, cap: cap))
            }
            let body = try await withDeadline(deadline) { try await Self.read(response.body, cap: cap) }
            return AttemptResponse(status: head.status, headers: head.headers, body: body)
        } catch {
            if let failure = Self.failure(for: error) { throw failure }
            throw CancellationError()
        }
    }

    /// Reads part by part and stops at the cap: leaving the loop early cancels the response stream, which closes the
    /// connection instead of draining an unbounded body.
    private static func read(_ parts: HTTPClientResponse.Body, cap: Int) async throws -> ByteBuffer {
        var body = ByteBuffer()
        for try await part in parts {
            guard body.readableBytes + part.readableBytes <= cap else {
                throw AttemptFailure(kind: .responseTooLarge(limit: cap), mayHaveBeenSent: true)
            }
            body.writeImmutableBuffer(part)
        }
        return body
    }

    /// What a thrown error means for the attempt; `nil` when it is the caller's cancellation.
    static func failure(for error: any Error) -> AttemptFailure? {
        switch error {
        case let failure as AttemptFailure:
            return failure
        case is AttemptDeadlineExceeded:
            return AttemptFailure(kind: .timeout(.deadline), mayHaveBeenSent: true)
        case let violation as SSRFViolation:
            return AttemptFailure(kind: .blocked(violation.reason), mayHaveBeenSent: false)
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout, .tlsHandshakeTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout:
                return AttemptFailure(kind: .timeout(.connect), mayHaveBeenSent: false)
            case .getConnectionFromPoolTimeout:
                return AttemptFailure(kind: .timeout(.connect), mayHaveBeenSent: false)
            case .readTimeout:
                return AttemptFailure(kind: .timeout(.read), mayHaveBeenSent: true)
            case .writeTimeout:
                return AttemptFailure(kind: .timeout(.write), mayHaveBeenSent: true)
            case .deadlineExceeded:
                return AttemptFailure(kind: .timeout(.deadline), mayHaveBeenSent: true)
            case .invalidURL, .emptyHost, .emptyScheme, .traceRequestWithBody, .bodyLengthMismatch:
                return AttemptFailure(kind: .invalidRequest(error.shortDescription), mayHaveBeenSent: false)
            case .cancelled:
                return Task.isCancelled ? nil : AttemptFailure(kind: .timeout(.deadline), mayHaveBeenSent: true)
            case .alreadyShutdown:
                return AttemptFailure(kind: .connectionFailed, mayHaveBeenSent: false)
            default:
                if error.shortDescription.hasPrefix("Invalid header") {
                    return AttemptFailure(kind: .invalidRequest(error.shortDescription), mayHaveBeenSent: false)
                }
                return AttemptFailure(kind: .connectionFailed, mayHaveBeenSent: true)
            }
        case is NIOConnectionError:
            return AttemptFailure(kind: .connectionFailed, mayHaveBeenSent: false)
        case let error as IOError:
            // A connection to an IP literal fails with the socket's own error rather than NIOConnectionError.
            let neverConnected = [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ETIMEDOUT].contains(error.errnoCode)
            return AttemptFailure(kind: .connectionFailed, mayHaveBeenSent: !neverConnected)
        case ChannelError.connectTimeout:
            return AttemptFailure(kind: .timeout(.connect), mayHaveBeenSent: false)
        case is CancellationError:
            return Task.isCancelled ? nil : AttemptFailure(kind: .timeout(.deadline), mayHaveBeenSent: true)
        default:
            return AttemptFailure(kind: .connectionFailed, mayHaveBeenSent: true)
        }
    }

    /// Runs `operation`, cancelling it when `deadline` passes (AsyncHTTPClient's own deadline ends at the
    /// response head; this one covers the body).
    ///
    /// The operation runs in a task of its own, awaited here and cancelled with the caller, so it is as structured as a
    /// child; the deadline is a timer on an event loop, dropped from its queue as soon as the operation ends. A task
    /// group racing the operation against `Task.sleep` cost a second task per attempt and left a sleeper's timer behind
    /// in the global executor for the whole attempt timeout, thousands of them at delivery rates.
    private func withDeadline<Value: Sendable>(
        _ deadline: NIODeadline,
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let task = Task { try await operation() }
        let expiry = DeadlineExpiry()
        let timer = http.eventLoopGroup.any().scheduleTask(deadline: deadline) {
            expiry.expired.store(true, ordering: .releasing)
            task.cancel()
        }
        defer { timer.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
        } catch {
            if expiry.expired.load(ordering: .acquiring) && !Task.isCancelled { throw AttemptDeadlineExceeded() }
            throw error
        }
    }
}

/// Whether an attempt's deadline timer fired.
private final class DeadlineExpiry: Sendable {
    let expired = Atomic(false)
}

extension HTTPFields {
    /// Response headers from AsyncHTTPClient; fields whose names HTTPTypes rejects are dropped.
    init(_ headers: HTTPHeaders) {
        self.init()
        for (name, value) in headers {
            if let name = HTTPField.Name(name) {
                append(HTTPField(name: name, value: value))
            }
        }
    }
}
