import SwitchyardCore

/// A declarative sync: which provider endpoint holds a model's records, how to page through it, where each
/// record's id and last-modified time are, and how to ask for changes only. No user code runs; the runner
/// interprets this document.
///
/// Built-in definitions ship in `SyncCatalog`; tenants save their own per provider (`sync_definitions`). The wire
/// form is snake_case JSON, the same as the API document's `SyncDefinition`.
public struct SyncDefinition: Sendable, Hashable, Codable {
    /// Unique per provider: `issues`. Lower-case letters, digits, `_` and `-`.
    public var name: String
    /// The records' model in the store and the change feed: `github_issue`.
    public var model: String
    public var description: String?
    public var request: SyncRequestTemplate
    public var pagination: SyncPagination
    public var records: SyncRecordLocation
    /// How to ask for records changed since the last completed run; absent: every run reads everything.
    public var incremental: SyncIncremental?
    /// How often an enabled sync runs, unless the integration overrides it.
    public var frequencySeconds: Int
    /// Inbound webhook events that carry one of this model's records, applied as they arrive.
    public var webhooks: [SyncWebhookMapping]

    public init(
        name: String,
        model: String,
        description: String? = nil,
        request: SyncRequestTemplate,
        pagination: SyncPagination,
        records: SyncRecordLocation,
        incremental: SyncIncremental? = nil,
        frequencySeconds: Int = 3600,
        webhooks: [SyncWebhookMapping] = []
    ) {
        self.name = name
        self.model = model
        self.description = description
        self.request = request
        self.pagination = pagination
        self.records = records
        self.incremental = incremental
        self.frequencySeconds = frequencySeconds
        self.webhooks = webhooks
    }

    enum CodingKeys: String, CodingKey {
        case name, model, description, request, pagination, records, incremental, webhooks
        case frequencySeconds = "frequency_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            model: try container.decode(String.self, forKey: .model),
            description: try container.decodeIfPresent(String.self, forKey: .description),
            request: try container.decode(SyncRequestTemplate.self, forKey: .request),
            pagination: try container.decode(SyncPagination.self, forKey: .pagination),
            records: try container.decode(SyncRecordLocation.self, forKey: .records),
            incremental: try container.decodeIfPresent(SyncIncremental.self, forKey: .incremental),
            frequencySeconds: try container.decodeIfPresent(Int.self, forKey: .frequencySeconds) ?? 3600,
            webhooks: try container.decodeIfPresent([SyncWebhookMapping].self, forKey: .webhooks) ?? []
        )
    }
}

/// The request for the first page. `path` is below the provider's API base (empty: the base itself, as for a GraphQL
/// endpoint) and may name the integration's connection parameters as `{name}`; `body` (POST only) is a JSON object,
/// such as a GraphQL query.
public struct SyncRequestTemplate: Sendable, Hashable, Codable {
    public enum Method: String, Sendable, Hashable, Codable {
        case get = "GET"
        case post = "POST"
    }

    public var method: Method
    public var path: String
    public var query: [String: String]
    public var body: JSONValue?

    public init(method: Method = .get, path: String, query: [String: String] = [:], body: JSONValue? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
    }

    enum CodingKeys: String, CodingKey { case method, path, query, body }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            method: try container.decodeIfPresent(Method.self, forKey: .method) ?? .get,
            path: try container.decode(String.self, forKey: .path),
            query: try container.decodeIfPresent([String: String].self, forKey: .query) ?? [:],
            body: try container.decodeIfPresent(JSONValue.self, forKey: .body)
        )
    }
}

/// Where a value the runner supplies goes in a request: a query parameter, or a member of the JSON body named
/// by a pointer (`/variables/after`).
public struct SyncParameter: Sendable, Hashable, Codable {
    public enum Location: String, Sendable, Hashable, Codable {
        case query, body
    }

    public var location: Location
    /// The query parameter's name, or the body member's JSON pointer.
    public var name: String

    public init(_ location: Location = .query, _ name: String) {
        self.location = location
        self.name = name
    }

    public static func query(_ name: String) -> Self { Self(.query, name) }
    public static func body(_ pointer: String) -> Self { Self(.body, pointer) }

    enum CodingKeys: String, CodingKey {
        case location = "in"
        case name
    }
}

/// How the provider pages a listing.
public struct SyncPagination: Sendable, Hashable, Codable {
    public enum Style: String, Sendable, Hashable, Codable, CaseIterable {
        /// One request returns everything.
        case none
        /// The response names the next page's cursor (`next_cursor`), or the last record does
        /// (`cursor_from_last_record`, as Stripe's `starting_after`); it goes in `parameter`.
        case cursor
        /// RFC 8288 `Link: <...>; rel="next"` (GitHub).
        case linkHeader = "link_header"
        /// The response holds the next page's full URL at `next_url`.
        case nextURL = "next_url"
        /// `parameter` is the offset of the page's first record; `limit_parameter` the page size.
        case offset
        /// `parameter` is the page number, from `first_page`; `limit_parameter` the page size.
        case pageNumber = "page_number"
    }

    public var style: Style
    public var nextCursor: JSONPointer?
    public var cursorFromLastRecord: JSONPointer?
    public var nextURL: JSONPointer?
    /// A boolean in the response that is false on the last page; without it, the end is a missing cursor or URL,
    /// or (offset and page number) a short page.
    public var hasMore: JSONPointer?
    public var parameter: SyncParameter?
    public var limitParameter: SyncParameter?
    public var pageSize: Int?
    public var firstPage: Int

    public init(
        _ style: Style,
        nextCursor: JSONPointer? = nil,
        cursorFromLastRecord: JSONPointer? = nil,
        nextURL: JSONPointer? = nil,
        hasMore: JSONPointer? = nil,
        parameter: SyncParameter? = nil,
        limitParameter: SyncParameter? = nil,
        pageSize: Int? = nil,
        firstPage: Int = 1
    ) {
        self.style = style
        self.nextCursor = nextCursor
        self.cursorFromLastRecord = cursorFromLastRecord
        self.nextURL = nextURL
        self.hasMore = hasMore
        self.parameter = parameter
        self.limitParameter = limitParameter
        self.pageSize = pageSize
        self.firstPage = firstPage
    }

    enum CodingKeys: String, CodingKey {
        case style = "type"
        case nextCursor = "next_cursor"
        case cursorFromLastRecord = "cursor_from_last_record"
        case nextURL = "next_url"
        case hasMore = "has_more"
        case parameter
        case limitParameter = "limit_parameter"
        case pageSize = "page_size"
        case firstPage = "first_page"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            try container.decode(Style.self, forKey: .style),
            nextCursor: try container.decodeIfPresent(JSONPointer.self, forKey: .nextCursor),
            cursorFromLastRecord: try container.decodeIfPresent(JSONPointer.self, forKey: .cursorFromLastRecord),
            nextURL: try container.decodeIfPresent(JSONPointer.self, forKey: .nextURL),
            hasMore: try container.decodeIfPresent(JSONPointer.self, forKey: .hasMore),
            parameter: try container.decodeIfPresent(SyncParameter.self, forKey: .parameter),
            limitParameter: try container.decodeIfPresent(SyncParameter.self, forKey: .limitParameter),
            pageSize: try container.decodeIfPresent(Int.self, forKey: .pageSize),
            firstPage: try container.decodeIfPresent(Int.self, forKey: .firstPage) ?? 1
        )
    }
}

/// Where a page's records are, and where each record's id and last-modified value are within it.
public struct SyncRecordLocation: Sendable, Hashable, Codable {
    /// The array of records in the response (`""`: the response is the array).
    public var pointer: JSONPointer
    /// Within a record: its id at the provider, a string or a number.
    public var id: JSONPointer
    /// Within a record: when it last changed (an RFC 3339 timestamp or a number). Incremental syncs need it.
    public var modified: JSONPointer?

    public init(pointer: JSONPointer, id: JSONPointer, modified: JSONPointer? = nil) {
        self.pointer = pointer
        self.id = id
        self.modified = modified
    }
}

/// How to ask for records changed since the last completed run: the greatest `records.modified` value that run
/// saw (its checkpoint) goes in `parameter`.
public struct SyncIncremental: Sendable, Hashable, Codable {
    public var parameter: SyncParameter

    public init(parameter: SyncParameter) {
        self.parameter = parameter
    }
}

/// An inbound webhook event type that carries one record of the sync's model.
public struct SyncWebhookMapping: Sendable, Hashable, Codable {
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
        /// Write the record in the payload.
        case upsert
        /// Mark the record the payload names deleted.
        case delete
        /// The payload is too thin to hold the record: start an incremental run instead.
        case trigger
    }

    /// The event's type as the webhook source reports it (`issues`, `customer.updated`).
    public var eventType: String
    /// Where the record is in the payload (`/issue`, `/data/object`); its id is at the sync's `records.id` in it.
    public var record: JSONPointer
    public var action: Action
    /// For `upsert` mappings: a payload member that marks a deletion instead (GitHub's `"action": "deleted"`).
    public var deleteWhen: SyncWebhookCondition?

    public init(eventType: String, record: JSONPointer, action: Action = .upsert, deleteWhen: SyncWebhookCondition? = nil) {
        self.eventType = eventType
        self.record = record
        self.action = action
        self.deleteWhen = deleteWhen
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "event_type"
        case record, action
        case deleteWhen = "delete_when"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            eventType: try container.decode(String.self, forKey: .eventType),
            record: try container.decode(JSONPointer.self, forKey: .record),
            action: try container.decodeIfPresent(Action.self, forKey: .action) ?? .upsert,
            deleteWhen: try container.decodeIfPresent(SyncWebhookCondition.self, forKey: .deleteWhen)
        )
    }
}

/// A payload member equal to a string.
public struct SyncWebhookCondition: Sendable, Hashable, Codable {
    public var pointer: JSONPointer
    public var equals: String

    public init(pointer: JSONPointer, equals: String) {
        self.pointer = pointer
        self.equals = equals
    }
}
