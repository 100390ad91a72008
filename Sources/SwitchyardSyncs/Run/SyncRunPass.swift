import Foundation
import HTTPTypes
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres

/// One attempt's walk through a run's remaining pages.
struct SyncRunPass {
    let runner: SyncRunner
    let run: SyncRunRecord
    let definition: SyncDefinition
    let target: IntegrationCaller.Target
    /// The integration's credential, read once for the pages of this attempt rather than once per page.
    let lease = CredentialLease()
    let logger: Logger

    /// Reads and commits pages until the last one, or until `until` has passed (checked between pages). Returns
    /// the run's committed page count and whether every page is read.
    ///
    /// A page commits while the next one is fetched and written (see `write`); every page this attempt wrote has
    /// committed, or the attempt has failed, by the time this returns.
    func readPages(until: ContinuousClock.Instant?) async throws -> (pages: Int, finished: Bool) {
        var position = try resumePosition()
        let since =
            run.mode == .incremental ? try run.since.map { try JSONText.decode(JSONValue.self, $0, column: "sync_runs.since", row: run.id) } : nil
        var written = run.pages
        let first = written
        // The next page's request, sent while the page before it was written (see `guessNext` and `write`).
        var ahead: Task<OutboundResponse, any Error>?
        // The commit of the last page written, which the next page's write overlaps.
        var committing: Task<Void, any Error>?
        defer { ahead?.cancel() }
        do {
            while position != .done {
                if let until, written > first, ContinuousClock.now >= until {
                    try await committing?.value
                    return (written, false)
                }
                let number = written + 1
                let sent: OutboundResponse
                if let early = ahead {
                    sent = try await withTaskCancellationHandler {
                        try await early.value
                    } onCancel: {
                        early.cancel()
                    }
                    ahead = nil
                } else {
                    sent = try await runner.send(try request(at: position, since: since), page: number, target: target, lease: lease, logger: logger)
                }
                // Sorted only now, in page order: a 401 marks the integration only once the pages before it committed.
                if !(200..<300).contains(sent.status.code) { try await committing?.value }
                let response = try await runner.check(sent, page: number, target: target, logger: logger)
                let guess = try? guessNext(after: position, in: response, page: number, since: since)
                let page: WrittenPage
                do {
                    page = try await write(response, page: number, after: position, since: since, guess: guess, following: committing)
                } catch {
                    guess?.request.cancel()
                    throw error
                }
                (position, ahead, committing) = (page.next, page.ahead, page.committing)
                written = number
            }
            try await committing?.value
            return (written, true)
        } catch {
            // A page that did not commit is what stopped the attempt, whatever failed after it.
            try await committing?.value
            throw error
        }
    }

    /// Where this attempt starts: the first page, or the one after the last committed page, from what that page said.
    private func resumePosition() throws -> SyncPagePosition {
        guard run.pages > 0, let read = run.position, let said = run.lastPage else { return .start }
        let position = try JSONText.decode(SyncPagePosition.self, read, column: "sync_runs.position", row: run.id)
        let next = try JSONText.decode(SyncPageNext.self, said, column: "sync_runs.last_page", row: run.id)
        return try nextPosition(after: position, next: next, page: run.pages)
    }

    private func request(at position: SyncPagePosition, since: JSONValue?) throws -> SyncPageRequest {
        try SyncPageRequest(
            definition,
            baseURL: target.baseURL,
            connectionParameters: target.integration.connectionParameters,
            position: position,
            since: since
        )
    }

    /// A page whose statement has run: where the next page starts, that page's request (already sent), and the
    /// page's commit, under way.
    private struct WrittenPage: Sendable {
        let next: SyncPagePosition
        let ahead: Task<OutboundResponse, any Error>?
        let committing: Task<Void, any Error>
    }

    /// Writes the page and moves the run past it, in one statement and one transaction, and returns as soon as the
    /// statement has run, with the next page's request sent and the transaction committing in a task of its own.
    ///
    /// The next page's position is known once the page's statement has run, before the transaction commits: its
    /// request goes then, and the next page is written (on another connection) while this one's commit is made
    /// durable, instead of after it: the commit's WAL flush was a third of a page's time in `bench sync`. That
    /// write upserts its records, then waits on the run's row for this commit (`SyncPageStatement`) and for this
    /// commit's outcome before its own checks, so pages still commit in order and a page whose predecessor failed
    /// rolls back with the predecessor's failure. A provider is only read from, so a request whose page does not
    /// follow (this commit failed) is merely cancelled and forgotten.
    private func write(
        _ response: OutboundResponse,
        page number: Int,
        after position: SyncPagePosition,
        since: JSONValue?,
        guess: GuessedPage?,
        following previous: Task<Void, any Error>?
    ) async throws -> WrittenPage {
        let pagination = definition.pagination
        var write = SyncPageWrite(
            integration: run.integrationID,
            model: definition.model,
            document: String(buffer: response.body),
            records: definition.records.pointer.tokens,
            id: definition.records.id.tokens
        )
        write.modified = definition.records.modified?.tokens
        write.nextCursor = pagination.nextCursor?.tokens
        write.cursorFromLastRecord = pagination.cursorFromLastRecord?.tokens
        write.nextURL = pagination.nextURL?.tokens
        write.hasMore = pagination.hasMore?.tokens
        let linkNext = LinkHeader.next(in: response.headers[values: HTTPField.Name("Link")!])
        write.run = SyncPageProgress(
            run: run.id,
            page: number,
            position: try JSONText.encode(position),
            linkNext: linkNext,
            recordsSeenIDs: run.mode == .full
        )
        let (statementRan, signal) = AsyncThrowingStream.makeStream(of: (SyncPagePosition, Task<OutboundResponse, any Error>?).self)
        let committing = Task { [self, write] in
            var ahead: Task<OutboundResponse, any Error>?
            do {
                try await runner.database.withTenant(target.tenantID, logger: logger) { transaction in
                    let facts: SyncPageFacts
                    do {
                        facts = try await transaction.writeSyncPage(write)
                    } catch {
                        try await previous?.value
                        throw error
                    }
                    // The previous page's outcome first: when it failed, this page did not follow it.
                    try await previous?.value
                    guard facts.progressed else { throw SyncRunSuperseded() }
                    try check(facts, page: number)
                    let next = try nextPosition(after: position, next: SyncPageNext(facts, linkNext: linkNext), page: number)
                    if let guess, guess.position == next {
                        ahead = guess.request
                    } else if next != .done, let request = try? request(at: next, since: since) {
                        // A request that cannot be made is left for the next turn, which fails on it in order.
                        guess?.request.cancel()
                        ahead = send(request, page: number + 1)
                    } else {
                        guess?.request.cancel()
                    }
                    signal.yield((next, ahead))
                    signal.finish()
                }
            } catch {
                ahead?.cancel()
                guess?.request.cancel()
                let failure = pageFailure(error, page: number)
                signal.finish(throwing: failure)
                throw failure
            }
        }
        for try await (next, ahead) in statementRan {
            return WrittenPage(next: next, ahead: ahead, committing: committing)
        }
        // The wait was cancelled: the transaction ends on its own, before the attempt does.
        try await committing.value
        throw CancellationError()
    }

    /// The next page's position as read from the page by `RawJSONPointer`, and its request, sent on that guess.
    private struct GuessedPage: Sendable {
        let position: SyncPagePosition
        let request: Task<OutboundResponse, any Error>
    }

    /// Sends the next page's request on what the page seems to say, before its statement has run: the provider's
    /// answer then travels while PostgreSQL parses and writes the page. The statement's answer decides (`write`);
    /// a guess it does not confirm is cancelled. Only the pagination that a page's cursor, next URL, `has_more`
    /// flag and `Link` header settle is guessed: not the ones that need its records counted.
    private func guessNext(
        after position: SyncPagePosition,
        in response: OutboundResponse,
        page number: Int,
        since: JSONValue?
    ) throws -> GuessedPage? {
        let pagination = definition.pagination
        switch pagination.style {
        case .cursor where pagination.nextCursor != nil, .nextURL, .linkHeader: break
        default: return nil
        }
        // The text `#>>` would give (`.some(nil)` for nothing there), or `nil` when the scan cannot tell.
        func text(_ pointer: JSONPointer?) -> String?? {
            guard let pointer else { return .some(nil) }
            switch RawJSONPointer.value(at: pointer.tokens, in: response.body) {
            case .absent?: return .some(nil)
            case .text(let text)?: return .some(text)
            default: return nil
            }
        }
        var hasMore: Bool?
        if let pointer = pagination.hasMore {
            switch RawJSONPointer.value(at: pointer.tokens, in: response.body) {
            case .bool(let flag)?: hasMore = flag
            case .absent?, .text?: hasMore = nil
            default: return nil
            }
        }
        guard let nextCursor = text(pagination.nextCursor), let nextURL = text(pagination.nextURL) else { return nil }
        let said = SyncPageNext(
            recordCount: 0,
            nextCursor: nextCursor,
            nextURL: nextURL,
            hasMore: hasMore,
            lastRecordCursor: nil,
            linkNext: LinkHeader.next(in: response.headers[values: HTTPField.Name("Link")!])
        )
        let next = try nextPosition(after: position, next: said, page: number)
        guard next != .done else { return nil }
        return GuessedPage(position: next, request: send(try request(at: next, since: since), page: number + 1))
    }

    private func send(_ request: SyncPageRequest, page number: Int) -> Task<OutboundResponse, any Error> {
        Task { [runner, target, lease, logger] in
            try await runner.send(request, page: number, target: target, lease: lease, logger: logger)
        }
    }

    /// A page's statement that failed: not JSON, or JSON PostgreSQL cannot hold (`\u0000`), would fail again.
    private func pageFailure(_ error: any Error, page number: Int) -> any Error {
        guard isDeterministicDatabaseFailure(error) else { return error }
        let reason = operatorDescription(of: error) ?? "\(error)"
        return SyncRunFailure.page(number, "the response could not be stored as JSON records: \(reason)")
    }

    private func check(_ facts: SyncPageFacts, page number: Int) throws(SyncRunFailure) {
        let pointer = definition.records.pointer
        guard let type = facts.recordsType else {
            throw .page(number, "the response has nothing at the records pointer '\(pointer.text)'")
        }
        guard type == "array" else {
            throw .page(number, "the records pointer '\(pointer.text)' holds a JSON \(type), not an array")
        }
        if let invalid = facts.invalidRecord {
            throw .page(
                number,
                "record \(invalid) of the page has no id at '\(definition.records.id.text)' (a string or number of 1 to 512 characters)"
            )
        }
    }

    /// Where the page after the one read at `position` starts, from what that page said, or `.done`.
    private func nextPosition(after position: SyncPagePosition, next facts: SyncPageNext, page number: Int) throws -> SyncPagePosition {
        let pagination = definition.pagination
        if facts.hasMore == false { return .done }
        switch pagination.style {
        case .none:
            return .done
        case .cursor:
            let cursor = pagination.nextCursor != nil ? facts.nextCursor : facts.lastRecordCursor
            guard let cursor, !cursor.isEmpty, facts.recordCount > 0 || pagination.nextCursor != nil else { return .done }
            if case .cursor(let previous) = position, previous == cursor {
                throw SyncRunFailure.page(number, "the provider returned the same cursor as for the previous page, which would never end")
            }
            return .cursor(cursor)
        case .linkHeader, .nextURL:
            let next = pagination.style == .linkHeader ? facts.linkNext : facts.nextURL
            guard let next, !next.isEmpty else { return .done }
            let url = resolve(next)
            guard runner.caller.isUnderBase(url, of: target) else {
                throw SyncRunFailure.page(
                    number,
                    "the next page's URL leaves the provider's API base; the integration's credential is not sent there"
                )
            }
            if case .url(let previous) = position, previous == url {
                throw SyncRunFailure.page(number, "the provider returned the same next URL as for the previous page, which would never end")
            }
            return .url(url)
        case .offset:
            guard facts.recordCount >= (pagination.pageSize ?? 1), facts.recordCount > 0 else { return .done }
            if case .offset(let offset) = position { return .offset(offset + facts.recordCount) }
            return .offset(facts.recordCount)
        case .pageNumber:
            guard facts.recordCount >= (pagination.pageSize ?? 1), facts.recordCount > 0 else { return .done }
            if case .page(let page) = position { return .page(page + 1) }
            return .page(pagination.firstPage + 1)
        }
    }

    /// An absolute URL as it is; a path-absolute one (`/api/v2/items?page=2`) on the API base's origin.
    private func resolve(_ link: String) -> String {
        guard link.hasPrefix("/"), !link.hasPrefix("//"), let base = URLComponents(string: target.baseURL) else { return link }
        var origin = URLComponents()
        origin.scheme = base.scheme
        origin.host = base.host
        origin.port = base.port
        return (origin.string ?? "") + link
    }
}

/// What a committed page said about the next one: from the page statement's answer, or as `sync_runs.last_page`
/// keeps it for an attempt that resumes.
struct SyncPageNext: Sendable, Decodable {
    var recordCount: Int
    var nextCursor: String?
    var nextURL: String?
    var hasMore: Bool?
    var lastRecordCursor: String?
    var linkNext: String?

    init(recordCount: Int, nextCursor: String?, nextURL: String?, hasMore: Bool?, lastRecordCursor: String?, linkNext: String?) {
        self.recordCount = recordCount
        self.nextCursor = nextCursor
        self.nextURL = nextURL
        self.hasMore = hasMore
        self.lastRecordCursor = lastRecordCursor
        self.linkNext = linkNext
    }

    init(_ facts: SyncPageFacts, linkNext: String?) {
        recordCount = facts.recordCount
        nextCursor = facts.nextCursor
        nextURL = facts.nextURL
        hasMore = facts.hasMore
        lastRecordCursor = facts.lastRecordCursor
        self.linkNext = linkNext
    }

    enum CodingKeys: String, CodingKey {
        case recordCount = "records"
        case nextCursor = "next_cursor"
        case nextURL = "next_url"
        case hasMore = "has_more"
        case lastRecordCursor = "last_record_cursor"
        case linkNext = "link_next"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        recordCount = try container.decode(Int.self, forKey: .recordCount)
        nextCursor = try container.decodeIfPresent(String.self, forKey: .nextCursor)
        nextURL = try container.decodeIfPresent(String.self, forKey: .nextURL)
        // Any JSON the provider put there; only a boolean says something, as in the page's own facts.
        hasMore = try? container.decodeIfPresent(Bool.self, forKey: .hasMore)
        lastRecordCursor = try container.decodeIfPresent(String.self, forKey: .lastRecordCursor)
        linkNext = try container.decodeIfPresent(String.self, forKey: .linkNext)
    }
}
