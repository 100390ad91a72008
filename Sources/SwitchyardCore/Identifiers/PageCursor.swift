import Foundation

/// An opaque pagination cursor: the last id of the previous page, base64url-encoded so that
/// clients treat it as a token rather than something to construct.
public struct PageCursor: Sendable, Equatable {
    public let lastID: UUID

    public init(lastID: UUID) {
        self.lastID = lastID
    }

    public init(token: String) throws(SwitchyardError) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard token.count <= 64, let data = Data(base64Encoded: base64), data.count == 16 else {
            throw .invalidRequest("The cursor is not valid. Use the next_cursor value of a previous page.")
        }
        let bytes = [UInt8](data)
        lastID = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }

    public var token: String {
        let data = withUnsafeBytes(of: lastID.uuid) { Data($0) }
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// What a list endpoint was asked for: at most `limit` items after `cursor`.
public struct PageRequest: Sendable {
    public var limit: Int
    public var cursor: PageCursor?

    public init(limit: Int, cursor: PageCursor?) {
        self.limit = limit
        self.cursor = cursor
    }
}

/// One page of results and the cursor of the next one, if any.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: PageCursor?

    public init(items: [Item], nextCursor: PageCursor?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// Builds a page from a query that fetched `limit + 1` rows: the extra row only says there is more.
    public init(fetched: [Item], limit: Int, id: (Item) -> UUID) {
        if fetched.count > limit {
            let items = Array(fetched.prefix(limit))
            self.init(items: items, nextCursor: items.last.map { PageCursor(lastID: id($0)) })
        } else {
            self.init(items: fetched, nextCursor: nil)
        }
    }
}
