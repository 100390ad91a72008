import Foundation
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres

extension Components.Schemas.Tenant {
    init(_ record: TenantRecord) {
        self.init(
            id: record.id.description,
            slug: record.slug,
            name: record.name,
            createdAt: record.createdAt,
            updatedAt: record.updatedAt,
            connectReturnOrigins: record.connectReturnOrigins
        )
    }
}

extension Components.Schemas.TenantList {
    init(_ page: Page<TenantRecord>) {
        self.init(data: page.items.map(Components.Schemas.Tenant.init), nextCursor: page.nextCursor?.token)
    }
}

extension Components.Schemas.TenantCreate: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        try TenantRules.validate(slug: slug)
        try TenantRules.validate(name: name)
    }
}

extension Components.Schemas.TenantUpdate: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        guard slug != nil || name != nil || connectReturnOrigins != nil else {
            throw .validation("Send at least one of: slug, name, connect_return_origins.")
        }
        if let slug { try TenantRules.validate(slug: slug) }
        if let name { try TenantRules.validate(name: name) }
        _ = try normalizedReturnOrigins()
    }

    /// The origins in canonical form (`https://host[:port]`), each checked.
    func normalizedReturnOrigins() throws(SwitchyardError) -> [String]? {
        guard let origins = connectReturnOrigins else { return nil }
        guard origins.count <= 20 else { throw .validation("connect_return_origins may list at most 20 origins.") }
        var normalized: [String] = []
        for (index, text) in origins.enumerated() {
            guard let origin = WebOrigin(origin: text) else {
                throw .validation(
                    "connect_return_origins[\(index)] must be an origin such as https://app.example.com (http only for localhost), without path, query or fragment."
                )
            }
            if !normalized.contains(origin.description) { normalized.append(origin.description) }
        }
        return normalized
    }
}

enum TenantRules {
    /// The same rule as the `tenants.slug` CHECK constraint: DNS-label-like, 1 to 63 characters.
    static func validate(slug: String) throws(SwitchyardError) {
        let bytes = Array(slug.utf8)
        let allowed = { (byte: UInt8) in (97...122).contains(byte) || (48...57).contains(byte) || byte == 45 }
        guard (1...63).contains(bytes.count), bytes.allSatisfy(allowed), bytes.first != 45, bytes.last != 45 else {
            throw .validation("slug must be 1 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'.")
        }
    }

    static func validate(name: String) throws(SwitchyardError) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, name.codePointCount <= 200 else { throw .validation("name must be 1 to 200 characters.") }
    }
}
