import PostgresNIO
import SwitchyardCore

/// Maps PostgreSQL failures onto what the API can say about them.
enum DatabaseError {
    /// Domain errors pass through; an unreachable database is 503; anything else stays as it is,
    /// to be logged with the request id and reported as a generic 500.
    static func translate(_ error: any Error) -> any Error {
        if error is SwitchyardError { return error }
        if let error = error as? PSQLError {
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed:
                return SwitchyardError.databaseUnavailable
            default:
                if error.sqlState == "57014" {  // query_canceled: the statement timeout fired
                    return SwitchyardError(.unavailable, code: "timeout", detail: "The request took too long and was cancelled. Retry later.")
                }
            }
        }
        return error
    }
}

extension PSQLError {
    /// The five-character SQLSTATE, when the server sent one.
    var sqlState: String? { serverInfo?[.sqlState] }

    var isUniqueViolation: Bool { sqlState == "23505" }
}

/// A database failure in words for an operator (a job's `last_error`, a dead letter): the server's message and
/// SQLSTATE, or what happened to the connection; `nil` for errors that are not PostgreSQL's. Never the statement
/// or its bind values.
public func operatorDescription(of error: any Error) -> String? {
    guard let error = error as? PSQLError else { return nil }
    if let message = error.serverInfo?[.message] {
        // Details can quote values; the untranslatable-character one only names the escape (`\u0000 cannot be
        // converted to text.`), which is what an operator needs to know.
        let detail = error.sqlState == "22P05" ? error.serverInfo?[.detail].map { ": \($0)" } ?? "" : ""
        let state = error.sqlState.map { " (SQLSTATE \($0))" } ?? ""
        return "PostgreSQL refused a statement: \(message)\(detail)\(state)"
    }
    switch error.code {
    case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed:
        return "the database connection was lost (\(error.code)); the job is retried"
    default:
        return "the database call failed (\(error.code))"
    }
}

/// Whether PostgreSQL refused a statement for the data it was given rather than for the database's state, so the
/// same statement with the same data fails again: a data exception (SQLSTATE class 22), a constraint the data
/// breaks (23) or a syntax or access error (42). A lost connection, a deadlock or a timeout are not.
public func isDeterministicDatabaseFailure(_ error: any Error) -> Bool {
    guard let state = (error as? PSQLError)?.sqlState else { return false }
    return ["22", "23", "42"].contains(String(state.prefix(2)))
}

/// Describes an error for a log line without what postgres-nio's debug description carries
/// (the query text and its bind values, which can hold secrets).
public func loggableDescription(of error: any Error) -> String {
    if let error = error as? PSQLError {
        let state = error.sqlState.map { " sqlstate=\($0)" } ?? ""
        let message = error.serverInfo?[.message].map { " message=\($0)" } ?? ""
        // The underlying error of a connection failure is a socket error ("connection refused"): no secrets.
        let underlying = error.code == .connectionError ? error.underlying.map { " cause=\(String(describing: $0))" } ?? "" : ""
        return "PSQLError code=\(error.code)\(state)\(message)\(underlying)"
    }
    if let error = error as? SwitchyardError {
        // An internal error's reason names what broke (a column that does not decode), never a value.
        return "SwitchyardError code=\(error.code)\(error.reason.map { " reason=\($0)" } ?? "")\(error.site.map { " site=\($0)" } ?? "")"
    }
    return String(describing: type(of: error))
}
