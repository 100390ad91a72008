import SwitchyardCore

extension JSONLogic {
    /// One evaluation: the operators of json-logic-js (the reference implementation) with the limits counted.
    struct Evaluator {
        let limits: Limits
        private var steps = 0
        private var depth = 0
        private var path: [String] = []

        init(limits: Limits) {
            self.limits = limits
        }

        mutating func apply(_ rule: JSONValue, _ data: JSONValue) throws(JSONLogicError) -> JSONValue {
            switch rule {
            case .array(let elements):
                try enter()
                defer { depth -= 1 }
                var values: [JSONValue] = []
                values.reserveCapacity(elements.count)
                for (index, element) in elements.enumerated() {
                    path.append(String(index))
                    values.append(try apply(element, data))
                    path.removeLast()
                }
                return try built(.array(values))
            case .object(let members) where members.count == 1:
                try enter()
                defer { depth -= 1 }
                let (name, argument) = members.first!
                path.append(name)
                defer { path.removeLast() }
                let arguments = try Operator.arguments(of: name, argument, path: path)
                return try apply(Operator(rawValue: name)!, arguments, bare: !JSONLogic.isArray(argument), data)
            default:
                // Anything else, an object of several keys included, is a value, as in the reference implementation.
                return rule
            }
        }

        private mutating func enter() throws(JSONLogicError) {
            guard depth < limits.maxDepth else { throw JSONLogicError(.tooDeep(limit: limits.maxDepth), path: path) }
            depth += 1
            try step()
        }

        private mutating func step(_ count: Int = 1) throws(JSONLogicError) {
            steps += count
            guard steps <= limits.maxSteps else { throw JSONLogicError(.tooManySteps(limit: limits.maxSteps), path: path) }
        }

        /// `value`, once its size and nesting are known to be within the limits. Measuring costs a step per KiB
        /// measured, so that building and measuring the same large value over and over is bounded too.
        private mutating func built(_ value: JSONValue) throws(JSONLogicError) -> JSONValue {
            var remaining = limits.maxOutputBytes
            let fit = value.fit(within: &remaining, levels: limits.maxOutputDepth)
            try step((limits.maxOutputBytes - remaining) / 1024)
            switch fit {
            case .fits: return value
            case .tooLarge: throw JSONLogicError(.outputTooLarge(limit: limits.maxOutputBytes), path: path)
            case .tooDeep: throw JSONLogicError(.outputTooDeep(limit: limits.maxOutputDepth), path: path)
            }
        }

        /// The argument at `index`, evaluated, with the path pointing at it.
        private mutating func argument(
            _ arguments: [JSONValue],
            _ index: Int,
            bare: Bool,
            _ data: JSONValue
        ) throws(JSONLogicError) -> JSONValue {
            guard arguments.indices.contains(index) else { return .null }
            if bare { return try apply(arguments[index], data) }
            path.append(String(index))
            defer { path.removeLast() }
            return try apply(arguments[index], data)
        }

        private mutating func apply(_ op: Operator, _ arguments: [JSONValue], bare: Bool, _ data: JSONValue) throws(JSONLogicError) -> JSONValue {
            switch op {
            // Operators that evaluate their arguments lazily.
            case .if, .ternary:
                var index = 0
                while index + 1 < arguments.count {
                    if try argument(arguments, index, bare: bare, data).isTruthy {
                        return try argument(arguments, index + 1, bare: bare, data)
                    }
                    index += 2
                }
                return index < arguments.count ? try argument(arguments, index, bare: bare, data) : .null
            case .and, .or:
                var current = JSONValue.null
                for index in arguments.indices {
                    current = try argument(arguments, index, bare: bare, data)
                    if current.isTruthy == (op == .or) { return current }
                }
                return current
            case .map, .filter, .all, .none, .some:
                let scoped = try argument(arguments, 0, bare: bare, data)
                guard case .array(let elements) = scoped else { return op == .map || op == .filter ? .array([]) : .bool(op == .none) }
                var results: [JSONValue] = []
                for element in elements {
                    try step()
                    let result = try argument(arguments, 1, bare: bare, element)
                    switch op {
                    case .map: results.append(result)
                    case .filter: if result.isTruthy { results.append(element) }
                    case .all: if !result.isTruthy { return .bool(false) }
                    case .none: if result.isTruthy { return .bool(false) }
                    default: if result.isTruthy { return .bool(true) }
                    }
                }
                switch op {
                case .map, .filter: return try built(.array(results))
                case .all: return .bool(!elements.isEmpty)
                case .none: return .bool(true)
                default: return .bool(false)
                }
            case .reduce:
                let scoped = try argument(arguments, 0, bare: bare, data)
                var accumulator = try argument(arguments, 2, bare: bare, data)
                guard case .array(let elements) = scoped else { return accumulator }
                for element in elements {
                    try step()
                    accumulator = try argument(arguments, 1, bare: bare, .object(["current": element, "accumulator": accumulator]))
                }
                return accumulator
            default:
                var values: [JSONValue] = []
                values.reserveCapacity(arguments.count)
                for index in arguments.indices {
                    values.append(try argument(arguments, index, bare: bare, data))
                }
                return try apply(op, values, data)
            }
        }

        /// The operators that take their arguments evaluated.
        private mutating func apply(_ op: Operator, _ values: [JSONValue], _ data: JSONValue) throws(JSONLogicError) -> JSONValue {
            func value(_ index: Int) -> JSONValue { values.indices.contains(index) ? values[index] : .null }
            func number(_ result: Double) -> JSONValue { result.isFinite ? .number(result) : .null }
            switch op {
            case .variable:
                return Self.variable(value(0), default: value(1), in: data)
            case .missing:
                return try built(.array(Self.missing(values, in: data)))
            case .missingSome:
                let needed = value(0).jsNumber
                let options: [JSONValue]
                if case .array(let elements) = value(1) { options = elements } else { options = [value(1)] }
                let missing = Self.missing(options, in: data)
                return Double(options.count - missing.count) >= needed ? .array([]) : try built(.array(missing))
            case .equal: return .bool(value(0).looselyEquals(value(1)))
            case .notEqual: return .bool(!value(0).looselyEquals(value(1)))
            case .strictEqual: return .bool(value(0).strictlyEquals(value(1)))
            case .strictNotEqual: return .bool(!value(0).strictlyEquals(value(1)))
            case .not: return .bool(!value(0).isTruthy)
            case .truthy: return .bool(value(0).isTruthy)
            case .greater: return .bool(value(1).jsLessThan(value(0)) ?? false)
            case .greaterOrEqual: return .bool(value(0).jsLessThan(value(1)).map(!) ?? false)
            case .less, .lessOrEqual:
                func holds(_ left: JSONValue, _ right: JSONValue) -> Bool {
                    op == .less ? left.jsLessThan(right) ?? false : right.jsLessThan(left).map(!) ?? false
                }
                // Three arguments: the middle one lies between the others (`{"<": [1, x, 10]}`).
                if values.count == 3 { return .bool(holds(value(0), value(1)) && holds(value(1), value(2))) }
                return .bool(holds(value(0), value(1)))
            case .max, .min:
                let numbers = values.map(\.jsNumber)
                if numbers.contains(where: \.isNaN) { return .null }
                return (op == .max ? numbers.max() : numbers.min()).map(number) ?? .null
            case .add: return number(values.reduce(0) { $0 + $1.jsParseFloat })
            case .multiply: return number(values.dropFirst().reduce(value(0).jsParseFloat) { $0 * $1.jsParseFloat })
            case .subtract:
                return values.count == 1 ? number(-value(0).jsNumber) : number(value(0).jsNumber - value(1).jsNumber)
            case .divide: return number(value(0).jsNumber / value(1).jsNumber)
            case .remainder: return number(value(0).jsNumber.truncatingRemainder(dividingBy: value(1).jsNumber))
            case .merge:
                var merged: [JSONValue] = []
                for value in values {
                    if case .array(let elements) = value { merged.append(contentsOf: elements) } else { merged.append(value) }
                }
                return try built(.array(merged))
            case .in:
                switch value(1) {
                case .array(let elements):
                    try step(elements.count / 1024)
                    return .bool(elements.contains { $0.strictlyEquals(value(0)) })
                case .string(let text):
                    let needle = value(0).jsString
                    return .bool(needle.isEmpty || text.contains(needle))
                default:
                    return .bool(false)
                }
            case .cat:
                var text = ""
                for value in values {
                    text += value.joinedString
                    guard text.utf8.count <= limits.maxOutputBytes else {
                        throw JSONLogicError(.outputTooLarge(limit: limits.maxOutputBytes), path: path)
                    }
                }
                try step(text.utf8.count / 1024)
                return .string(text)
            case .substr:
                return .string(Self.substring(value(0).jsString, start: value(1).jsNumber, length: values.count > 2 ? value(2).jsNumber : nil))
            case .log:
                return value(0)
            case .if, .ternary, .and, .or, .map, .filter, .reduce, .all, .none, .some:
                preconditionFailure("\(op.rawValue) evaluates its arguments itself")
            }
        }

        /// `var`: a dotted path (`a.b.0`) into `data`; the whole of `data` for a null or empty path; `fallback` where
        /// the path leads nowhere. A null that is there is null, not the fallback (as in the reference implementation).
        static func variable(_ path: JSONValue, default fallback: JSONValue, in data: JSONValue) -> JSONValue {
            let key = path.jsString
            if case .null = path { return data }
            if key.isEmpty { return data }
            var current = data
            for component in key.split(separator: ".", omittingEmptySubsequences: false) {
                switch current {
                case .object(let members):
                    guard let member = members[String(component)] else { return fallback }
                    current = member
                case .array(let elements):
                    guard let index = Int(component), String(index) == component, elements.indices.contains(index) else { return fallback }
                    current = elements[index]
                default:
                    return fallback
                }
            }
            return current
        }

        /// The keys among `keys` (or the array that is its first element) whose values are null, empty text or absent.
        static func missing(_ keys: [JSONValue], in data: JSONValue) -> [JSONValue] {
            var keys = keys
            if case .array(let elements) = keys.first { keys = elements }
            return keys.filter { key in
                switch variable(key, default: .null, in: data) {
                case .null: true
                case .string(let text): text.isEmpty
                default: false
                }
            }
        }

        /// JavaScript's `substr(start, length)` with json-logic's negative length (that many characters left off
        /// the end), counted in Unicode scalars, so a character outside the BMP is never split.
        static func substring(_ text: String, start: Double, length: Double?) -> String {
            let scalars = Array(text.unicodeScalars)
            let size = Double(scalars.count)
            func integer(_ value: Double) -> Double { value.isNaN ? 0 : value.rounded(.towardZero) }
            let startIndex = integer(start) < 0 ? Swift.max(size + integer(start), 0) : Swift.min(integer(start), size)
            var count = size - startIndex
            if let length {
                let wanted = integer(length)
                count = wanted < 0 ? Swift.max(count + wanted, 0) : Swift.min(wanted, count)
            }
            var result = String.UnicodeScalarView()
            result.append(contentsOf: scalars[Int(startIndex)..<Int(startIndex + count)])
            return String(result)
        }
    }
}

extension JSONValue {
    enum Fit {
        case fits
        case tooLarge
        case tooDeep
    }

    /// Whether the value's JSON text is at most `remaining` bytes (an estimate: a number counts 8) and its arrays and
    /// objects nest at most `levels` deep, taking what it measures from `remaining` and stopping as soon as either
    /// runs out (a value nested a hundred thousand deep would overflow the stack of whatever walks it next).
    func fit(within remaining: inout Int, levels: Int) -> Fit {
        switch self {
        case .null, .bool: remaining -= 5
        case .number: remaining -= 8
        case .string(let text): remaining -= text.utf8.count + 2
        case .array(let elements):
            guard levels > 0 else { return .tooDeep }
            remaining -= 2 + elements.count
            guard remaining >= 0 else { return .tooLarge }
            for element in elements {
                let fit = element.fit(within: &remaining, levels: levels - 1)
                guard case .fits = fit else { return fit }
            }
        case .object(let members):
            guard levels > 0 else { return .tooDeep }
            remaining -= 2
            for (key, value) in members {
                remaining -= key.utf8.count + 4
                guard remaining >= 0 else { return .tooLarge }
                let fit = value.fit(within: &remaining, levels: levels - 1)
                guard case .fits = fit else { return fit }
            }
        }
        return remaining >= 0 ? .fits : .tooLarge
    }
}
