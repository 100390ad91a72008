import Foundation

/// Encodes a value into a `JSONValue` tree as `JSONEncoder` would, except for the keys that must be `null`.
///
/// The types generated from the API document encode every optional property with `encodeIfPresent`, which leaves
/// the key out when the value is `nil`, also for the properties the document marks required and nullable
/// (`next_cursor`, `end_user_id`): those must be present as `null` (swift-openapi-generator issue #934). The
/// generation script lists them per schema, as a `RequiredNullableKeys` conformance of the schema's `CodingKeys`,
/// and this encoder writes `null` for them. Dates are RFC 3339 timestamps in UTC without fractions, URLs their
/// absolute string.
public struct JSONValueEncoder: Sendable {
    public init() {}

    public func encode(_ value: some Encodable) throws -> JSONValue {
        let root = JSONNode()
        try root.store(value, codingPath: [])
        return root.value
    }

    /// The JSON text of `value`: the same bytes as `encode(value).serialized()`, written from the encoder's own tree
    /// without building the `JSONValue` in between (the API writes every response body this way).
    public func serialize(_ value: some Encodable) throws -> [UInt8] {
        let root = JSONNode()
        try root.store(value, codingPath: [])
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        root.write(into: &bytes)
        return bytes
    }
}

/// The coding keys of a type that are always present, as `null` when their value is `nil`.
public protocol RequiredNullableKeys: CodingKey {
    static var requiredNullable: Set<String> { get }
}

/// One value being built: a leaf, or the members or elements its containers write into.
private final class JSONNode {
    private enum State {
        case empty
        case leaf(JSONValue)
        case object([(String, JSONNode)])
        case array([JSONNode])
    }

    private var state = State.empty

    var value: JSONValue {
        switch state {
        case .empty: .object([:])
        case .leaf(let value): value
        case .object(let members): .object(Dictionary(members.map { ($0.0, $0.1.value) }, uniquingKeysWith: { _, last in last }))
        case .array(let elements): .array(elements.map(\.value))
        }
    }

    func set(_ value: JSONValue) { state = .leaf(value) }

    /// As `value.serialized()` writes it: members in the order of their keys' bytes, the last of a repeated key.
    func write(into bytes: inout [UInt8]) {
        switch state {
        case .empty: bytes.append(contentsOf: "{}".utf8)
        case .leaf(let value): value.write(into: &bytes)
        case .array(let elements): JSONValue.writeArray(elements, into: &bytes) { $0.write(into: &$1) }
        case .object(let members):
            // Stable: of members with the same key, the one written last comes last, and is the one kept.
            let order = members.indices.sorted {
                members[$0].0 == members[$1].0 ? $0 < $1 : members[$0].0.utf8.lexicographicallyPrecedes(members[$1].0.utf8)
            }
            let kept = order.indices.lazy.filter { $0 + 1 == order.count || members[order[$0 + 1]].0 != members[order[$0]].0 }
            JSONValue.writeObject(kept.map { members[order[$0]] }, into: &bytes) { $0.write(into: &$1) }
        }
    }

    func member(_ key: String) -> JSONNode {
        let node = JSONNode()
        if case .object(var members) = state {
            state = .empty  // `members` is then the array's only reference: appending does not copy it
            members.append((key, node))
            state = .object(members)
        } else {
            state = .object([(key, node)])
        }
        return node
    }

    func makeObject() {
        if case .object = state { return }
        state = .object([])
    }

    func appendElement() -> JSONNode {
        let node = JSONNode()
        if case .array(var elements) = state {
            state = .empty
            elements.append(node)
            state = .array(elements)
        } else {
            state = .array([node])
        }
        return node
    }

    func makeArray() {
        if case .array = state { return }
        state = .array([])
    }

    var count: Int {
        if case .array(let elements) = state { return elements.count }
        return 0
    }

    /// `codingPath` is built only when needed (a nested container, an error): most values are leaves.
    func store<Value: Encodable>(_ value: Value, codingPath: @autoclosure () -> [any CodingKey]) throws {
        // Primitives first: the containers' generic `encode` also stands for their Int8...UInt64 and Float
        // requirements, and a primitive's own `encode(to:)` would call back into it. Compared by type, not cast:
        // a cast per value (to a protocol, for the integers) cost more than the rest of the encoding.
        switch ObjectIdentifier(Value.self) {
        case ObjectIdentifier(String.self): set(.string(value as! String))
        case ObjectIdentifier(Int.self): set(.number(Double(value as! Int)))
        case ObjectIdentifier(Bool.self): set(.bool(value as! Bool))
        case ObjectIdentifier(Date.self): set(.string((value as! Date).rfc3339))
        case ObjectIdentifier(Double.self): set(try .finite(value as! Double, at: codingPath()))
        case ObjectIdentifier(JSONValue.self): set(value as! JSONValue)
        case ObjectIdentifier(UUID.self): set(.string((value as! UUID).uuidString))
        case ObjectIdentifier(URL.self): set(.string((value as! URL).absoluteString))
        case ObjectIdentifier(Float.self): set(try .finite(Double(value as! Float), at: codingPath()))
        case ObjectIdentifier(Int64.self): set(.number(Double(value as! Int64)))
        case ObjectIdentifier(Int32.self): set(.number(Double(value as! Int32)))
        case ObjectIdentifier(Int16.self): set(.number(Double(value as! Int16)))
        case ObjectIdentifier(Int8.self): set(.number(Double(value as! Int8)))
        case ObjectIdentifier(UInt.self): set(.number(Double(value as! UInt)))
        case ObjectIdentifier(UInt64.self): set(.number(Double(value as! UInt64)))
        case ObjectIdentifier(UInt32.self): set(.number(Double(value as! UInt32)))
        case ObjectIdentifier(UInt16.self): set(.number(Double(value as! UInt16)))
        case ObjectIdentifier(UInt8.self): set(.number(Double(value as! UInt8)))
        default: try value.encode(to: NodeEncoder(node: self, codingPath: codingPath()))
        }
    }
}

private struct NodeEncoder: Encoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeObject()
        return KeyedEncodingContainer(KeyedNodeContainer(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.makeArray()
        return UnkeyedNodeContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(node: node, codingPath: codingPath)
    }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.member(key.stringValue).set(.null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { node.member(key.stringValue).set(.bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { node.member(key.stringValue).set(.string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { node.member(key.stringValue).set(try .finite(value, at: codingPath + [key])) }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.member(key.stringValue).set(.number(Double(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try node.member(key.stringValue).store(value, codingPath: codingPath + [key])
    }

    // The point of this encoder: `nil` is written as `null` for a required key instead of leaving it out.
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }

    private mutating func encodeOptional<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value {
            try encode(value, forKey: key)
        } else if let required = Key.self as? any RequiredNullableKeys.Type, required.requiredNullable.contains(key.stringValue) {
            // The keys written as `null` when `nil`; any other `nil` leaves its key out.
            try encodeNil(forKey: key)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = node.member(key.stringValue)
        child.makeObject()
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.member(key.stringValue)
        child.makeArray()
        return UnkeyedNodeContainer(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.member("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { NodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]) }
}

private struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    mutating func encodeNil() throws { node.appendElement().set(.null) }
    mutating func encode(_ value: Bool) throws { node.appendElement().set(.bool(value)) }
    mutating func encode(_ value: String) throws { node.appendElement().set(.string(value)) }
    mutating func encode(_ value: Double) throws { node.appendElement().set(try .finite(value, at: codingPath)) }
    mutating func encode(_ value: Int) throws { node.appendElement().set(.number(Double(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.appendElement().store(value, codingPath: codingPath) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = node.appendElement()
        child.makeObject()
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(node: child, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = node.appendElement()
        child.makeArray()
        return UnkeyedNodeContainer(node: child, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(node: node.appendElement(), codingPath: codingPath) }
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.set(.null) }
    mutating func encode(_ value: Bool) throws { node.set(.bool(value)) }
    mutating func encode(_ value: String) throws { node.set(.string(value)) }
    mutating func encode(_ value: Double) throws { node.set(try .finite(value, at: codingPath)) }
    mutating func encode(_ value: Int) throws { node.set(.number(Double(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.store(value, codingPath: codingPath) }
}

extension JSONValue {
    fileprivate static func finite(_ value: Double, at codingPath: [any CodingKey]) throws -> JSONValue {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "JSON has no \(value)"))
        }
        return .number(value)
    }
}
