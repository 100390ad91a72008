import SwitchyardCore

extension SyncDefinition {
    /// Checks what JSON decoding cannot: names, ranges, what each pagination style needs and nothing it does not
    /// use, and that the path names only the provider's connection parameters (`parameters`, when known).
    public func validate(connectionParameters parameters: Set<String>? = nil) throws(DefinitionValidationError) {
        var issues: [DefinitionValidationError.Issue] = []
        func fail(_ field: String, _ message: String) { issues.append(.init(field: field, message: message)) }

        if !Self.isValidName(name) { fail("name", "must be 1 to 63 characters of a-z, 0-9, '_' and '-', starting with a letter") }
        if !Self.isValidModel(model) { fail("model", "must be 1 to 64 characters of a-z, 0-9 and '_', starting with a letter") }
        if let description, description.count > 500 { fail("description", "must be at most 500 characters") }
        if !(60...2_678_400).contains(frequencySeconds) { fail("frequency_seconds", "must be between 60 and 2678400 (31 days)") }

        validateRequest(fail)
        validatePagination(fail)
        if incremental != nil, records.modified == nil {
            fail("records.modified", "is required by an incremental sync: its greatest value is the next run's checkpoint")
        }
        if let incremental { validate(incremental.parameter, field: "incremental.parameter", fail) }

        var eventTypes: Set<String> = []
        for (index, mapping) in webhooks.enumerated() {
            let field = "webhooks[\(index)]"
            if mapping.eventType.isEmpty || mapping.eventType.count > 200 { fail("\(field).event_type", "must be 1 to 200 characters") }
            if !eventTypes.insert(mapping.eventType).inserted { fail("\(field).event_type", "maps '\(mapping.eventType)' a second time") }
            if mapping.deleteWhen != nil, mapping.action != .upsert { fail("\(field).delete_when", "applies to 'upsert' mappings only") }
        }
        if webhooks.count > 50 { fail("webhooks", "may hold at most 50 mappings") }

        if let parameters {
            for name in Self.placeholders(in: request.path) where !parameters.contains(name) {
                fail("request.path", "names '{\(name)}', which is not a connection parameter of the provider")
            }
        }
        guard issues.isEmpty else { throw DefinitionValidationError("sync definition", issues: issues) }
    }

    public static func isValidName(_ name: String) -> Bool {
        matches(name, maxLength: 63, allowing: "_-")
    }

    public static func isValidModel(_ model: String) -> Bool {
        matches(model, maxLength: 64, allowing: "_")
    }

    private static func matches(_ text: String, maxLength: Int, allowing extra: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first), text.unicodeScalars.count <= maxLength else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || extra.unicodeScalars.contains($0) }
    }

    /// The `{name}` placeholders of a path template.
    static func placeholders(in path: String) -> [String] {
        var names: [String] = []
        var rest = Substring(path)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    private func validateRequest(_ fail: (String, String) -> Void) {
        let path = request.path
        if !(path.isEmpty || path.hasPrefix("/")) || path.count > 1000 {
            fail("request.path", "must be empty (the API base itself) or start with '/', and be at most 1000 characters")
        }
        if path.contains("?") || path.contains("#") { fail("request.path", "may not hold a query or fragment; put parameters in request.query") }
        if path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) { fail("request.path", "may not hold '.' or '..' segments") }
        if path.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) {
            fail("request.path", "may not hold spaces or control characters")
        }
        for name in Self.placeholders(in: path) where name.isEmpty || name.contains("/") {
            fail("request.path", "has an empty or malformed '{...}' placeholder")
        }
        for (name, value) in request.query where name.isEmpty || name.count > 200 || value.count > 2000 {
            fail("request.query", "parameter names are 1 to 200 characters and values at most 2000")
        }
        switch (request.method, request.body) {
        case (.get, .some): fail("request.body", "is only sent with POST")
        case (.post, .some(.object)), (.post, .none): break
        case (.post, .some): fail("request.body", "must be a JSON object")
        case (.get, .none): break
        }
    }

    private func validatePagination(_ fail: (String, String) -> Void) {
        let pagination = self.pagination
        let style = pagination.style
        var used: Set<String> = []
        switch style {
        case .none, .linkHeader:
            break
        case .cursor:
            used = ["next_cursor", "cursor_from_last_record", "has_more", "parameter", "limit_parameter", "page_size"]
            if (pagination.nextCursor == nil) == (pagination.cursorFromLastRecord == nil) {
                fail("pagination.next_cursor", "or cursor_from_last_record (exactly one) says where the next cursor is")
            }
            if pagination.parameter == nil { fail("pagination.parameter", "says where the cursor goes in the next request") }
        case .nextURL:
            used = ["next_url", "has_more"]
            if pagination.nextURL == nil { fail("pagination.next_url", "says where the next page's URL is in the response") }
        case .offset, .pageNumber:
            used = ["parameter", "limit_parameter", "page_size", "has_more"]
            if style == .pageNumber { used.insert("first_page") }
            if pagination.parameter == nil {
                fail("pagination.parameter", "says where the \(style == .offset ? "offset" : "page number") goes in the request")
            }
            if pagination.pageSize == nil { fail("pagination.page_size", "is required: a page shorter than it is the last") }
        }
        let present: [(String, Bool)] = [
            ("next_cursor", pagination.nextCursor != nil), ("cursor_from_last_record", pagination.cursorFromLastRecord != nil),
            ("next_url", pagination.nextURL != nil), ("has_more", pagination.hasMore != nil), ("parameter", pagination.parameter != nil),
            ("limit_parameter", pagination.limitParameter != nil), ("page_size", pagination.pageSize != nil),
            ("first_page", pagination.firstPage != 1),
        ]
        for (field, isPresent) in present where isPresent && !used.contains(field) {
            fail("pagination.\(field)", "is not used by pagination type '\(style.rawValue)'")
        }
        if let pageSize = pagination.pageSize, !(1...10_000).contains(pageSize) { fail("pagination.page_size", "must be between 1 and 10000") }
        if !(0...1).contains(pagination.firstPage) { fail("pagination.first_page", "must be 0 or 1") }
        if let parameter = pagination.parameter { validate(parameter, field: "pagination.parameter", fail) }
        if let parameter = pagination.limitParameter { validate(parameter, field: "pagination.limit_parameter", fail) }
    }

    private func validate(_ parameter: SyncParameter, field: String, _ fail: (String, String) -> Void) {
        switch parameter.location {
        case .query:
            if parameter.name.isEmpty || parameter.name.count > 200 { fail("\(field).name", "must be 1 to 200 characters") }
        case .body:
            if request.method != .post { fail("\(field).in", "'body' needs a POST request") }
            do {
                let pointer = try JSONPointer(parameter.name)
                if pointer.tokens.isEmpty { fail("\(field).name", "must point inside the body, not at all of it") }
            } catch {
                fail("\(field).name", "is a JSON pointer into the body, and \(error.description)")
            }
        }
    }
}
