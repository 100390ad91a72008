/// Where the next page of a run starts, kept on the run after every committed page.
public enum SyncPagePosition: Sendable, Hashable, Codable {
    /// The first page: the definition's request.
    case start
    /// A cursor to put in the pagination parameter.
    case cursor(String)
    /// A full URL the provider handed out (`Link` header, `next_url`).
    case url(String)
    case offset(Int)
    case page(Int)
    /// Every page is committed; only the run's end is left.
    case done

    enum CodingKeys: String, CodingKey {
        case cursor, url, offset, page, done
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let cursor = try container.decodeIfPresent(String.self, forKey: .cursor) {
            self = .cursor(cursor)
        } else if let url = try container.decodeIfPresent(String.self, forKey: .url) {
            self = .url(url)
        } else if let offset = try container.decodeIfPresent(Int.self, forKey: .offset) {
            self = .offset(offset)
        } else if let page = try container.decodeIfPresent(Int.self, forKey: .page) {
            self = .page(page)
        } else if try container.decodeIfPresent(Bool.self, forKey: .done) == true {
            self = .done
        } else {
            self = .start
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .start: break
        case .cursor(let cursor): try container.encode(cursor, forKey: .cursor)
        case .url(let url): try container.encode(url, forKey: .url)
        case .offset(let offset): try container.encode(offset, forKey: .offset)
        case .page(let page): try container.encode(page, forKey: .page)
        case .done: try container.encode(true, forKey: .done)
        }
    }
}
