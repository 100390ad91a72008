import HummingbirdCore
import Logging
import NIOCore
import SwitchyardPostgres

/// A server child channel whose connection is handled on its own channel's event loop: the connection's task (and, with
/// HTTP/2, its streams' tasks, which inherit the preference) prefers that loop as its executor.
///
/// Without it, a request's handler resumes on whichever loop the global executor picks, and every read of the request
/// and write of its response hops to the channel's loop and back. Pinned, `bench api` measured `/healthz` at 57k req/s
/// against 47k, and `/v1/me` and `/v1/integrations/{id}` about a quarter faster at 64 connections (issue 18). Work a
/// request awaits elsewhere (a database batch on its connection's loop) still runs there and resumes here.
struct EventLoopPinnedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor.of(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}
