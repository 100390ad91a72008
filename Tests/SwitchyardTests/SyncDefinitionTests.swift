import Foundation
import SwitchyardCore
import SwitchyardProviders
import Testing

@testable import SwitchyardSyncs

/// Sync definitions as documents: the built-in catalog, what validation refuses (naming the field), JSON pointers.
@Suite("Sync definitions: the built-in catalog, validation, JSON pointers (issue 14)")
struct SyncDefinitionTests {
    @Test("every built-in sync is valid for its provider, and the catalog covers GitHub, Stripe, HubSpot and Linear")
    func builtIns() throws {
        #expect(Set(SyncCatalog.builtIn.keys).isSuperset(of: ["github", "stripe", "hubspot", "linear"]))
        for (provider, syncs) in SyncCatalog.builtIn {
            let definition = try #require(ProviderCatalog.builtIn.provider(id: provider), "\(provider) is not a built-in provider")
            for sync in syncs {
                try sync.validate(connectionParameters: Set(definition.connectionParameters.map(\.name)))
                // The stored form reads back as the same definition.
                let stored = try SyncDirectory.encode(sync)
                #expect(try JSONDecoder().decode(SyncDefinition.self, from: Data(stored.utf8)) == sync)
            }
        }
    }

    @Test("the built-ins' first requests go where the providers' APIs are")
    func builtInRequests() throws {
        func first(_ provider: String, _ name: String) throws -> SyncPageRequest {
            let definition = try #require(SyncCatalog.builtIn(provider: provider, name: name))
            let base = try #require(ProviderCatalog.builtIn.provider(id: provider)).apiBaseURL(with: [:], allowingHTTPHosts: []).absoluteString
            return try SyncPageRequest(definition, baseURL: base, connectionParameters: [:], position: .start, since: nil)
        }
        #expect(try first("github", "issues").url == "https://api.github.com/issues?direction=asc&filter=all&per_page=100&sort=updated&state=all")
        #expect(try first("stripe", "customers").url == "https://api.stripe.com/v1/customers?limit=100")
        #expect(try first("hubspot", "contacts").url == "https://api.hubapi.com/crm/v3/objects/contacts?archived=false&limit=100")
        let linear = try first("linear", "issues")
        #expect(linear.url == "https://api.linear.app/graphql" && linear.method == .post)
        let body = try JSONDecoder().decode(JSONValue.self, from: Data(try #require(linear.body).utf8))
        #expect(try JSONPointer("/variables/since").value(in: body) == .string("1970-01-01T00:00:00.000Z"))
        // An incremental page: the checkpoint and the cursor in the GraphQL variables; in GitHub's query string.
        let definition = try #require(SyncCatalog.builtIn(provider: "linear", name: "issues"))
        let next = try SyncPageRequest(
            definition,
            baseURL: "https://api.linear.app/graphql",
            connectionParameters: [:],
            position: .cursor("abc"),
            since: .string("2026-12-01T00:00:00.000Z")
        )
        let variables = try JSONDecoder().decode(JSONValue.self, from: Data(try #require(next.body).utf8))
        #expect(
            try JSONPointer("/variables").value(in: variables) == .object(["after": .string("abc"), "since": .string("2026-12-01T00:00:00.000Z")])
        )
        let github = try SyncPageRequest(
            try #require(SyncCatalog.builtIn(provider: "github", name: "issues")),
            baseURL: "https://api.github.com",
            connectionParameters: [:],
            position: .start,
            since: .string("2026-12-01T00:00:00Z")
        )
        #expect(github.url.contains("&since=2026-12-01T00%3A00%3A00Z&"))
    }

    @Test("path placeholders take the connection parameters, percent-encoded as one segment")
    func pathParameters() throws {
        #expect(try SyncPageRequest.expand("/repos/{owner}/{repo}/issues", with: ["owner": "a b", "repo": "x/y"]) == "/repos/a%20b/x%2Fy/issues")
        #expect(throws: SyncRunFailure.self) { try SyncPageRequest.expand("/orgs/{org}", with: [:]) }
    }

    /// A valid definition, as JSON, with `change` applied to its object.
    static func definition(_ change: (inout [String: Any]) -> Void = { _ in }) throws -> SyncDefinition {
        var object: [String: Any] = [
            "name": "contacts", "model": "contact",
            "request": ["path": "/v1/contacts", "query": ["limit": "100"]],
            "pagination": ["type": "cursor", "next_cursor": "/next", "parameter": ["in": "query", "name": "after"]],
            "records": ["pointer": "/results", "id": "/id", "modified": "/updated_at"],
            "incremental": ["parameter": ["in": "query", "name": "since"]],
        ]
        change(&object)
        return try JSONDecoder().decode(SyncDefinition.self, from: try JSONSerialization.data(withJSONObject: object))
    }

    @Test("a well-formed definition passes; its defaults are filled in")
    func valid() throws {
        let definition = try Self.definition()
        try definition.validate(connectionParameters: [])
        #expect(definition.frequencySeconds == 3600 && definition.request.method == .get && definition.webhooks.isEmpty)
    }

    @Test(
        "invalid definitions are refused naming the field at fault",
        arguments: [
            ("name", #"{"name": "Contacts!"}"#),
            ("model", #"{"model": "9lives"}"#),
            ("frequency_seconds", #"{"frequency_seconds": 5}"#),
            ("request.path", #"{"request": {"path": "v1/contacts"}}"#),
            ("request.path", #"{"request": {"path": "/v1/contacts?limit=1"}}"#),
            ("request.path", #"{"request": {"path": "/v1/../admin"}}"#),
            ("request.path", #"{"request": {"path": "/accounts/{account}/contacts"}}"#),
            ("request.body", #"{"request": {"path": "/v1/contacts", "body": {"q": 1}}}"#),
            ("pagination.parameter", #"{"pagination": {"type": "cursor", "next_cursor": "/next"}}"#),
            ("pagination.next_cursor", #"{"pagination": {"type": "cursor", "parameter": {"in": "query", "name": "after"}}}"#),
            ("pagination.page_size", #"{"pagination": {"type": "link_header", "page_size": 10}}"#),
            ("pagination.page_size", #"{"pagination": {"type": "offset", "parameter": {"in": "query", "name": "o"}}}"#),
            ("pagination.next_url", #"{"pagination": {"type": "next_url"}}"#),
            (
                "pagination.parameter.in",
                #"{"pagination": {"type": "cursor", "next_cursor": "/next", "parameter": {"in": "body", "name": "/variables/after"}}}"#
            ),
            ("records.modified", #"{"records": {"pointer": "/results", "id": "/id"}}"#),
            (
                "webhooks[1].event_type",
                #"{"webhooks": [{"event_type": "contact.updated", "record": "/object"}, {"event_type": "contact.updated", "record": "/object"}]}"#
            ),
            (
                "webhooks[0].delete_when",
                #"{"webhooks": [{"event_type": "c.deleted", "record": "/o", "action": "delete", "delete_when": {"pointer": "/a", "equals": "b"}}]}"#
            ),
        ]
    )
    func invalid(_ field: String, _ patch: String) throws {
        let members = try #require(try JSONSerialization.jsonObject(with: Data(patch.utf8)) as? [String: Any])
        let definition = try Self.definition { $0.merge(members) { $1 } }
        #expect(
            performing: { try definition.validate(connectionParameters: []) },
            throws: { error in
                guard let error = error as? DefinitionValidationError else { return false }
                return error.issues.contains { $0.field == field } && error.description.contains(field)
            }
        )
    }

    @Test("JSON pointers follow RFC 6901: escapes, array indexes, the whole document")
    func pointers() throws {
        let document = JSONValue.object(["a/b": .object(["m~n": .array([.string("x"), .string("y")])]), "": .number(1)])
        #expect(try JSONPointer("/a~1b/m~0n/1").value(in: document) == .string("y"))
        #expect(try JSONPointer("/a~1b/m~0n/01").value(in: document) == nil)
        #expect(try JSONPointer("").value(in: document) == document)
        #expect(try JSONPointer("/").value(in: document) == .number(1))
        #expect(try JSONPointer("/a~1b/m~0n/1").tokens == ["a/b", "m~n", "1"])
        #expect(throws: JSONPointerError.notAbsolute) { try JSONPointer("a/b") }
        #expect(throws: JSONPointerError.badEscape) { try JSONPointer("/a~2") }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(JSONPointer.self, from: Data(#""nope""#.utf8)) }
    }
}
