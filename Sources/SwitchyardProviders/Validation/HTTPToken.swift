/// Text rules for header names and values, scopes and other short strings in a provider definition.
public enum HTTPToken {
    /// An RFC 9110 §5.6.2 token, as header names must be; at most 100 characters.
    public static func isHeaderName(_ name: String) -> Bool {
        let allowed = Set("!#$%&'*+-.^_`|~".utf8)
        let bytes = Array(name.utf8)
        return (1...100).contains(bytes.count)
            && bytes.allSatisfy { (97...122).contains($0) || (65...90).contains($0) || (48...57).contains($0) || allowed.contains($0) }
    }

    /// Printable ASCII and spaces only, so no CR/LF can split a header; at most `maximumLength` bytes.
    public static func isPrintable(_ text: String, maximumLength: Int) -> Bool {
        text.utf8.count <= maximumLength && text.unicodeScalars.allSatisfy { (0x20..<0x7F).contains($0.value) }
    }

    /// An RFC 6749 §3.3 scope-token: printable ASCII except space, '"' and '\'.
    public static func isScopeToken(_ scope: String) -> Bool {
        let bytes = Array(scope.utf8)
        return (1...256).contains(bytes.count)
            && bytes.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }

    /// Headers a definition may not set or inject: transport framing, routing and cookies.
    static let reservedHeaderNames: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade",
        "proxy-authorization", "proxy-connection", "cookie", "expect",
    ]
}
