import NIOCore

/// Where `bench ingest`'s deliveries go and what they carry: the server's port, the source's ingest path, and the
/// signed body (GitHub's signature covers only the body, so one signature serves every delivery).
struct IngestTarget: Sendable {
    let port: Int
    let path: String
    let body: ByteBuffer
    let signature: String
}
