import Foundation

/// Splits a migration file into statements, because PostgreSQL's extended query protocol (all that
/// postgres-nio speaks) takes one statement at a time. Semicolons inside quotes, quoted identifiers,
/// dollar-quoted bodies (`$$ ... $$`, `$fn$ ... $fn$`) and comments do not split.
enum SQLStatementSplitter {
    static func split(_ sql: String) -> [String] {
        let characters = Array(sql.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0

        func flush() {
            let statement = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !statement.isEmpty { statements.append(statement) }
            current = String.UnicodeScalarView()
        }

        func starts(with text: String, at position: Int) -> Bool {
            let scalars = Array(text.unicodeScalars)
            guard position + scalars.count <= characters.count else { return false }
            return Array(characters[position..<position + scalars.count]) == scalars
        }

        while index < characters.count {
            let character = characters[index]
            if starts(with: "--", at: index) {
                while index < characters.count, characters[index] != "\n" { index += 1 }
                continue
            }
            if starts(with: "/*", at: index) {
                index += 2
                while index < characters.count, !starts(with: "*/", at: index) { index += 1 }
                index += 2
                continue
            }
            if character == "'" || character == "\"" {
                current.append(character)
                index += 1
                while index < characters.count {
                    current.append(characters[index])
                    if characters[index] == character {
                        // A doubled quote is an escaped quote, not the end.
                        if index + 1 < characters.count, characters[index + 1] == character {
                            current.append(characters[index + 1])
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    index += 1
                }
                continue
            }
            if character == "$", let tag = dollarTag(characters, at: index) {
                current.append(contentsOf: tag.unicodeScalars)
                index += tag.unicodeScalars.count
                while index < characters.count, !starts(with: tag, at: index) {
                    current.append(characters[index])
                    index += 1
                }
                if index < characters.count {
                    current.append(contentsOf: tag.unicodeScalars)
                    index += tag.unicodeScalars.count
                }
                continue
            }
            if character == ";" {
                flush()
                index += 1
                continue
            }
            current.append(character)
            index += 1
        }
        flush()
        return statements
    }

    /// `$$` or `$name$` starting at `index`, if that is what stands there.
    private static func dollarTag(_ characters: [Unicode.Scalar], at index: Int) -> String? {
        var end = index + 1
        while end < characters.count, characters[end] == "_" || characters[end].properties.isAlphabetic || ("0"..."9").contains(characters[end]) {
            end += 1
        }
        guard end < characters.count, characters[end] == "$" else { return nil }
        // `$1` is a parameter, not a tag.
        if end > index + 1, ("0"..."9").contains(characters[index + 1]) { return nil }
        return String(String.UnicodeScalarView(characters[index...end]))
    }
}
