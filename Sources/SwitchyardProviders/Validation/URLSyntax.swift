import Foundation

/// Judges an outbound URL on its text alone.
///
/// Deliberately syntactic: no DNS lookups happen here. Whether a host resolves to a loopback, private,
/// link-local or otherwise forbidden address (API-5) is the SSRF guard's decision at connect time.
enum URLSyntax {
    static let maximumLength = 2048

    /// What is wrong with `string` as an outbound URL; empty when nothing is.
    static func problems(in string: String, allowQuery: Bool, allowingHTTPHosts: Set<String>) -> [String] {
        guard string.utf8.count <= maximumLength else { return ["is longer than \(maximumLength) characters"] }
        guard string.unicodeScalars.allSatisfy({ (0x21..<0x7F).contains($0.value) }) else {
            return ["contains whitespace, control or non-ASCII characters"]
        }
        guard !string.contains("\\") else { return ["contains a backslash"] }
        guard let components = URLComponents(string: string), let scheme = components.scheme?.lowercased(),
            string.lowercased().hasPrefix(scheme + "://")
        else {
            return ["is not an absolute URL"]
        }
        var problems: [String] = []
        let host = components.host?.lowercased() ?? ""
        switch scheme {
        case "https":
            break
        case "http" where !host.isEmpty && allowingHTTPHosts.contains(host):
            break
        default:
            problems.append("must use https")
        }
        if components.user != nil || components.password != nil || authority(of: string).contains("@") {
            problems.append("must not contain user information ('@')")
        }
        if host.isEmpty {
            problems.append("has no host")
        } else if !isDNSName(host) && !allowingHTTPHosts.contains(host) {
            problems.append("must have a DNS host name (letters, digits, '-' and '.')")
        }
        if components.fragment != nil || string.contains("#") { problems.append("must not have a fragment") }
        if !allowQuery && (components.query != nil || string.contains("?")) { problems.append("must not have a query") }
        return problems
    }

    /// The text between `://` and the first `/`, `?` or `#`.
    static func authority(of string: String) -> Substring {
        guard let separator = string.range(of: "://") else { return "" }
        let rest = string[separator.upperBound...]
        return rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    }

    /// Dot-separated labels of letters, digits and '-', none empty and none starting or ending with '-', the last
    /// not all digits (RFC 3696 §2), and not an IPv4 address in any form a resolver accepts: `10.0.0.1`, `127.1`,
    /// `2130706433`, `0x7f000001`, `0177.0.0.1` (issue 12, item 13). IP literals are for the development allow-list only.
    static func isDNSName(_ host: String) -> Bool {
        guard host.utf8.count <= 253, !isIPv4Literal(host) else { return false }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if let last = labels.last, last.allSatisfy(\.isASCIIDigit) { return false }
        return labels.allSatisfy { label in
            let bytes = Array(label.utf8)
            return (1...63).contains(bytes.count) && bytes.first != 45 && bytes.last != 45
                && bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 }
        }
    }

    /// One to four dot-separated numbers, each decimal, octal (leading 0) or hexadecimal (`0x`): what `inet_aton`
    /// reads as an IPv4 address.
    static func isIPv4Literal(_ host: String) -> Bool {
        let labels = host.lowercased().split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(labels.count) else { return false }
        return labels.allSatisfy { label in
            if label.hasPrefix("0x") { return label.count > 2 && label.dropFirst(2).allSatisfy(\.isHexDigit) }
            return !label.isEmpty && label.allSatisfy(\.isASCIIDigit)
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
