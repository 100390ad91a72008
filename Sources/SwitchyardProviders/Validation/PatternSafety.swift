/// A conservative check that a tenant-supplied regular expression cannot backtrack catastrophically.
///
/// Swift's `Regex` backtracks, so `(a+)+$` or `(a|aa)*$` take exponential time on a crafted value. Values are
/// short (at most 100 characters), which keeps patterns without nested repetition polynomial; this refuses
/// what makes them exponential: a repeated group (`*`, `+` or `{`) that itself contains a quantifier or an
/// alternation, and backreferences. It refuses some harmless patterns too, which is the intended trade.
enum PatternSafety {
    static let maximumLength = 256

    /// Why `pattern` is refused, or nil when it is acceptable.
    static func problem(in pattern: String) -> String? {
        guard pattern.utf8.count <= maximumLength else { return "must be at most \(maximumLength) characters" }
        guard (try? Regex(pattern)) != nil else { return "is not a valid regular expression" }
        let characters = Array(pattern)
        // Per open group: whether it contains a quantifier or an alternation.
        var groups: [(quantified: Bool, alternated: Bool)] = [(false, false)]
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "\\":
                if index + 1 < characters.count, characters[index + 1].isNumber || characters[index + 1] == "k" {
                    return "must not use backreferences"
                }
                index += 2
                continue
            case "[":
                index = endOfCharacterClass(characters, from: index)
                continue
            case "(":
                groups.append((false, false))
            case ")":
                guard groups.count > 1 else { return "has an unbalanced ')'" }
                let group = groups.removeLast()
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                let repeated = next == "*" || next == "+" || next == "{"
                if repeated && (group.quantified || group.alternated) {
                    return "must not repeat a group that contains a quantifier or '|' (catastrophic backtracking)"
                }
                groups[groups.count - 1].quantified = groups[groups.count - 1].quantified || group.quantified || repeated
                groups[groups.count - 1].alternated = groups[groups.count - 1].alternated || group.alternated
            case "|":
                groups[groups.count - 1].alternated = true
            case "*", "+", "?", "{":
                groups[groups.count - 1].quantified = true
            default:
                break
            }
            index += 1
        }
        return nil
    }

    /// The index just past the `]` closing the class opened at `start`.
    private static func endOfCharacterClass(_ characters: [Character], from start: Int) -> Int {
        var index = start + 1
        if index < characters.count, characters[index] == "^" { index += 1 }
        if index < characters.count, characters[index] == "]" { index += 1 }
        while index < characters.count {
            if characters[index] == "\\" {
                index += 2
                continue
            }
            if characters[index] == "]" { return index + 1 }
            index += 1
        }
        return characters.count
    }
}
