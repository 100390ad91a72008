import SwitchyardCore
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres

/// The OAuth parts the controllers share; one per process, so the refresher's in-process single-flight covers
/// every route.
struct OAuthServices: Sendable {
    let connector: OAuthConnector
    let refresher: TokenRefresher
    let revoker: TokenRevoker
    let caller: IntegrationCaller
    let directory: ProviderDirectory
    let settings: OAuthSettings
    let publicBaseURL: String

    init(configuration: SwitchyardConfiguration, database: Database, outbound: OutboundClient, directory: ProviderDirectory) {
        let tokens = TokenEndpointClient(outbound: outbound)
        publicBaseURL = configuration.publicBaseURL
        settings = configuration.oauth
        self.directory = directory
        connector = OAuthConnector(
            database: database,
            providers: directory,
            tokens: tokens,
            settings: configuration.oauth,
            publicBaseURL: publicBaseURL
        )
        refresher = TokenRefresher(database: database, providers: directory, tokens: tokens, skewSeconds: configuration.oauth.refreshSkewSeconds)
        revoker = TokenRevoker(database: database, providers: directory, tokens: tokens)
        caller = IntegrationCaller(database: database, directory: directory, outbound: outbound, refresher: refresher)
    }
}
