import SwitchyardCore

/// The sync definitions that ship with the built-in providers, by provider id. Tenants add their own per provider;
/// a tenant's definition may not take a built-in one's name.
public enum SyncCatalog {
    public static let builtIn: [String: [SyncDefinition]] = [
        "github": [.githubIssues],
        "hubspot": [.hubspotContacts],
        "linear": [.linearIssues],
        "stripe": [.stripeCustomers],
    ]

    /// The built-in definition `name` of `provider`, if there is one.
    public static func builtIn(provider: String, name: String) -> SyncDefinition? {
        builtIn[provider]?.first { $0.name == name }
    }
}

// The pointers below are literals known to be valid.
extension JSONPointer {
    fileprivate init(literal text: String) {
        do { try self.init(text) } catch { preconditionFailure("invalid built-in JSON pointer \(text)") }
    }
}

extension SyncDefinition {
    /// The issues (and pull requests) the user can see across repositories: `GET /issues?filter=all`, paged by the
    /// `Link` header, changed since the checkpoint with `since`.
    static let githubIssues = SyncDefinition(
        name: "issues",
        model: "github_issue",
        description: "Issues and pull requests visible to the connected user, open and closed.",
        request: SyncRequestTemplate(
            path: "/issues",
            query: ["filter": "all", "state": "all", "sort": "updated", "direction": "asc", "per_page": "100"]
        ),
        pagination: SyncPagination(.linkHeader),
        records: SyncRecordLocation(
            pointer: JSONPointer(literal: ""),
            id: JSONPointer(literal: "/id"),
            modified: JSONPointer(literal: "/updated_at")
        ),
        incremental: SyncIncremental(parameter: .query("since")),
        frequencySeconds: 900,
        webhooks: [
            SyncWebhookMapping(
                eventType: "issues",
                record: JSONPointer(literal: "/issue"),
                deleteWhen: SyncWebhookCondition(pointer: JSONPointer(literal: "/action"), equals: "deleted")
            )
        ]
    )

    /// Stripe customers: `GET /v1/customers` (the provider's base ends in `/v1`), paged with `starting_after` set to the last customer's id. Stripe
    /// lists have no last-modified filter, so every run reads all of them and deletions are detected by absence.
    static let stripeCustomers = SyncDefinition(
        name: "customers",
        model: "stripe_customer",
        description: "Customers of the connected Stripe account.",
        request: SyncRequestTemplate(path: "/customers", query: ["limit": "100"]),
        pagination: SyncPagination(
            .cursor,
            cursorFromLastRecord: JSONPointer(literal: "/id"),
            hasMore: JSONPointer(literal: "/has_more"),
            parameter: .query("starting_after")
        ),
        records: SyncRecordLocation(pointer: JSONPointer(literal: "/data"), id: JSONPointer(literal: "/id")),
        frequencySeconds: 3600,
        webhooks: [
            SyncWebhookMapping(eventType: "customer.created", record: JSONPointer(literal: "/data/object")),
            SyncWebhookMapping(eventType: "customer.updated", record: JSONPointer(literal: "/data/object")),
            SyncWebhookMapping(eventType: "customer.deleted", record: JSONPointer(literal: "/data/object"), action: .delete),
        ]
    )

    /// HubSpot contacts: `GET /crm/v3/objects/contacts`, paged by `paging.next.after`.
    static let hubspotContacts = SyncDefinition(
        name: "contacts",
        model: "hubspot_contact",
        description: "CRM contacts with their default properties.",
        request: SyncRequestTemplate(path: "/crm/v3/objects/contacts", query: ["limit": "100", "archived": "false"]),
        pagination: SyncPagination(.cursor, nextCursor: JSONPointer(literal: "/paging/next/after"), parameter: .query("after")),
        records: SyncRecordLocation(
            pointer: JSONPointer(literal: "/results"),
            id: JSONPointer(literal: "/id"),
            modified: JSONPointer(literal: "/updatedAt")
        ),
        frequencySeconds: 3600
    )

    /// Linear issues through its GraphQL API (the provider's base is the endpoint itself, so the path is empty): the
    /// cursor and the checkpoint travel as query variables.
    static let linearIssues = SyncDefinition(
        name: "issues",
        model: "linear_issue",
        description: "Issues of the connected workspace, oldest change first.",
        request: SyncRequestTemplate(
            method: .post,
            path: "",
            body: .object([
                "query": .string(
                    "query Issues($after: String, $since: DateTimeOrDuration!) { issues(first: 100, after: $after, orderBy: updatedAt, "
                        + "filter: { updatedAt: { gt: $since } }) { nodes { id identifier title description priority "
                        + "state { name } assignee { id } createdAt updatedAt } pageInfo { hasNextPage endCursor } } }"
                ),
                "variables": .object(["since": .string("1970-01-01T00:00:00.000Z")]),
            ])
        ),
        pagination: SyncPagination(
            .cursor,
            nextCursor: JSONPointer(literal: "/data/issues/pageInfo/endCursor"),
            hasMore: JSONPointer(literal: "/data/issues/pageInfo/hasNextPage"),
            parameter: .body("/variables/after")
        ),
        records: SyncRecordLocation(
            pointer: JSONPointer(literal: "/data/issues/nodes"),
            id: JSONPointer(literal: "/id"),
            modified: JSONPointer(literal: "/updatedAt")
        ),
        incremental: SyncIncremental(parameter: .body("/variables/since")),
        frequencySeconds: 900
    )
}
