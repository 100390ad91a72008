import Foundation

/// RFC 8288 `Link` header values: the target of the link whose `rel` includes `next`.
enum LinkHeader {
    static func next(in values: [String]) -> String? {
        for value in values {
            for link in splitLinks(value) {
                guard let open = link.firstIndex(of: "<"), let close = link[open...].firstIndex(of: ">") else { continue }
                let target = String(link[link.index(after: open)..<close])
                let parameters = link[link.index(after: close)...].split(separator: ";")
                for parameter in parameters {
                    let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard pair.count == 2, pair[0].lowercased() == "rel" else { continue }
                    let relations = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased().split(separator: " ")
                    if relations.contains("next") { return target }
                }
            }
        }
        return nil
    }

    /// Splits on the commas between links, not those inside `<...>` or quotes.
    private static func splitLinks(_ value: String) -> [Substring] {
        var links: [Substring] = []
        var start = value.startIndex
        var inTarget = false
        var inQuotes = false
        for index in value.indices {
            switch value[index] {
            case "<" where !inQuotes: inTarget = true
            case ">" where !inQuotes: inTarget = false
            case "\"" where !inTarget: inQuotes.toggle()
            case "," where !inTarget && !inQuotes:
                links.append(value[start..<index])
                start = value.index(after: index)
            default: break
            }
        }
        links.append(value[start...])
        return links
    }
}
