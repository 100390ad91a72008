import ArgumentParser
import NIOCore
import NIOPosix

/// `switchyard`: one binary, one subcommand per process kind.
@main
struct Switchyard: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        abstract: "A self-hostable, multi-tenant integration platform.",
        discussion: "Settings come from SWITCHYARD_* environment variables; see README.md.",
        version: version,
        subcommands: [
            ServeCommand.self, ExecutorCommand.self, SchedulerCommand.self, MigrateCommand.self, DevCommand.self, KeysCommand.self,
            BenchCommand.self, DemoProviderCommand.self, VersionCommand.self,
        ]
    )

    static func main() async {
        // Swift concurrency's tasks run on NIO's event loop threads instead of a pool of their own: a request's
        // handler, its database calls and its response then stay on one thread instead of hopping between two
        // pools, and those hops cost this server more CPU than any of its own code (issue 18). It must happen
        // before any task is enqueued, hence first.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("switchyard \(Switchyard.version)")
    }
}
