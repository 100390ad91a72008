/// The parts of an outbound URL that may be logged (OA-9): host, a path with id-like segments replaced
/// by `{id}`, and a query whose secret-looking parameters have their values replaced by `REDACTED`.
/// Userinfo and fragment are dropped. Headers and bodies are never logged at all.
struct LogSafeURL: Sendable, Equatable {
    var host: String
    var path: String
    var query: String?

    /// Query parameter names containing any of these (case-insensitive) hold credentials or one-time codes.
    static let sensitiveNameFragments = [
        "token", "key", "secret", "signature", "sig", "code", "password", "passwd", "pwd",
        "auth", "session", "credential", "jwt", "assertion", "nonce", "otp",
    ]

    init(_ url: String) {
        var rest = Substring(url)
        if let schemeEnd = rest.firstRange(of: "://") { rest = rest[schemeEnd.upperBound...] }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        host = String(authority.prefix(255))
        rest = rest[authorityEnd...]
        let queryStart = rest.firstIndex(of: "?")
        let rawPath = queryStart.map { rest[..<$0] } ?? rest
        path = rawPath.isEmpty ? "/" : Self.template(path: rawPath)
        query = queryStart.map { Self.redact(query: rest[rest.index(after: $0)...]) }
    }

    static func isSensitive(parameter name: some StringProtocol) -> Bool {
        let decoded = percentDecoded(name).lowercased()
        return sensitiveNameFragments.contains { decoded.contains($0) }
    }

    private static func template(path: Substring) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { segment -> Substring in
            looksLikeIdentifier(segment) ? "{id}" : segment
        }
        return String(segments.joined(separator: "/").prefix(256))
    }

    private static func redact(query: Substring) -> String {
        let pairs = query.split(separator: "&").map { pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].prefix(64)
            guard parts.count == 2 else { return String(name) }
            if isSensitive(parameter: parts[0]) { return "\(name)=REDACTED" }
            return "\(name)=\(looksLikeOpaque(parts[1]) ? "{id}" : parts[1].prefix(64))"
        }
        return String(pairs.joined(separator: "&").prefix(512))
    }

    /// Numbers, UUIDs, e-mail addresses and long opaque tokens in a path: the values that make every URL
    /// unique and sometimes carry personal data or credentials (e.g. a bot token in the path).
    private static func looksLikeIdentifier(_ segment: Substring) -> Bool {
        !segment.isEmpty && (segment.allSatisfy(\.isNumber) || looksLikeOpaque(segment))
    }

    /// E-mail addresses and long opaque tokens; short numbers (`page=2`) are kept in queries.
    private static func looksLikeOpaque(_ segment: Substring) -> Bool {
        if segment.contains("@") || segment.contains("%40") { return true }
        let hasDigit = segment.contains(where: \.isNumber)
        return hasDigit && segment.count >= 16 || segment.count >= 32
    }

    private static func percentDecoded(_ text: some StringProtocol) -> String {
        let input = Array(text.utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "%"), index + 2 < input.count,
                let value = UInt8(String(decoding: input[index + 1...index + 2], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(input[index] == UInt8(ascii: "+") ? UInt8(ascii: " ") : input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
