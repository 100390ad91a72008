import ArgumentParser
import Configuration
import Foundation
import SwitchyardCore

/// Flags shared by the commands that serve HTTP; they override the environment.
struct HTTPOptions: ParsableArguments {
    @Option(help: "Listen host (SWITCHYARD_HTTP_HOST).")
    var host: String?

    @Option(help: "Listen port (SWITCHYARD_HTTP_PORT).")
    var port: Int?

    var overrides: [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { values[AbsoluteConfigKey(SwitchyardSettings.httpHost.configKey)] = .init(.string(host), isSecret: false) }
        if let port { values[AbsoluteConfigKey(SwitchyardSettings.httpPort.configKey)] = .init(.string(String(port)), isSecret: false) }
        return values
    }
}

extension SwitchyardConfiguration {
    /// Reads flags (first) and the process environment; on a bad setting prints one line naming it and exits.
    static func loadOrExit(
        overrides: [AbsoluteConfigKey: ConfigValue] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        requiring requirements: Requirements
    ) throws -> SwitchyardConfiguration {
        let reader = ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: overrides),
            EnvironmentVariablesProvider(environmentVariables: environment),
        ])
        do {
            return try load(from: reader, requiring: requirements)
        } catch {
            FileHandle.standardError.write(Data("switchyard: invalid configuration: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
    }
}
