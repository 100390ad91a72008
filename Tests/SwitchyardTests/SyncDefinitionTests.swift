import Foundation
import SwitchyardCore
import SwitchyardProviders
import SwitchyardSyncs
import Testing

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
                guard let error = error as? SyncDefinitionError else { return false }
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
