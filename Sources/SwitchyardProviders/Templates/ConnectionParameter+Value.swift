import Foundation

extension ConnectionParameter {
    /// The longest value any parameter may have.
    public static let maximumValueLength = 100

    /// Checks one value: the fixed safe alphabet first, then the parameter's own pattern.
    ///
    /// The alphabet (ASCII letters, digits, '-' and '_') is the floor for every provider, custom ones included,
    /// so whatever a pattern allows, a value can never carry '.', '/', '@', ':', '%', '?', '#' or whitespace
    /// and so never changes a URL's host, port, path structure or query.
    public func check(_ value: String) throws(ConnectionParameterError) {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty else { throw .invalid(name: name, reason: "it must not be empty") }
        guard bytes.count <= Self.maximumValueLength else {
            throw .invalid(name: name, reason: "it must be at most \(Self.maximumValueLength) characters")
        }
        guard bytes.allSatisfy(Self.isSafeByte) else {
            throw .invalid(name: name, reason: "it may only contain letters, digits, '-' and '_'")
        }
        guard let regex = try? Regex(pattern) else {
            throw .invalid(name: name, reason: "the provider's pattern for it is not a valid regular expression")
        }
        guard (try? regex.wholeMatch(in: value)) != nil else {
            throw .invalid(name: name, reason: "it must match \(pattern)")
        }
    }

    /// The value carried in a token-response field, for a parameter whose source is `.tokenResponse`.
    ///
    /// With a host suffix the field must be an https URL on a host ending in that suffix (Salesforce's
    /// `instance_url` → `acme` for `https://acme.my.salesforce.com`); the remaining label is then checked
    /// like any other value, so `https://evil.example/x.my.salesforce.com` or `https://a.b.my.salesforce.com` fail.
    public func value(fromTokenResponseField field: String) throws(ConnectionParameterError) -> String {
        guard case .tokenResponse(_, let hostSuffix) = source else {
            throw .invalid(name: name, reason: "it is not filled from the token response")
        }
        guard let hostSuffix else {
            try check(field)
            return field
        }
        guard let components = URLComponents(string: field), components.scheme?.lowercased() == "https",
            components.user == nil, components.password == nil, components.port == nil,
            let host = components.host?.lowercased(), host.hasSuffix(hostSuffix.lowercased())
        else {
            throw .invalid(name: name, reason: "the token response did not give an https URL on *\(hostSuffix)")
        }
        let value = String(host.dropLast(hostSuffix.count))
        try check(value)
        return value
    }

    static func isSafeByte(_ byte: UInt8) -> Bool {
        (97...122).contains(byte) || (65...90).contains(byte) || (48...57).contains(byte) || byte == 45 || byte == 95
    }
}
