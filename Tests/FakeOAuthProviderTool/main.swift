import Foundation
import Logging
import SwitchyardTestSupport

// `swift run fake-oauth-provider [--port N]`: the tests' fake OAuth 2.0 provider, for trying the connect
// flow by hand (README, "Connect an OAuth provider"). It serves its own Switchyard provider definition and
// OAuth app at /switchyard/provider.json and /switchyard/oauth-app.json. Ctrl-C stops it.
let arguments = CommandLine.arguments
let port = arguments.firstIndex(of: "--port").flatMap { $0 + 1 < arguments.count ? Int(arguments[$0 + 1]) : nil } ?? 9400
try await FakeOAuthProvider.withRunning(port: port, logger: Logger(label: "fake-oauth")) { fake in
    print(
        """
        Fake OAuth provider on \(fake.baseURL)
          provider definition: \(fake.baseURL)/switchyard/provider.json
          OAuth app:           \(fake.baseURL)/switchyard/oauth-app.json
        Access tokens live \(fake.settings.accessTokenLifetime) s; refresh tokens rotate. Ctrl-C stops it.
        """
    )
    fflush(nil)
    while true { try await Task.sleep(for: .seconds(3600)) }
}
