import ArgumentParser

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
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print("switchyard \(Switchyard.version)")
    }
}
