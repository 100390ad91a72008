extension ProviderDefinition {
    /// Salesforce production and Developer Edition orgs logging in through login.salesforce.com.
    static let salesforce = salesforceDefinition(
        id: "salesforce",
        displayName: "Salesforce",
        loginHost: "login.salesforce.com",
        myDomainSuffix: ".my.salesforce.com"
    )

    /// Salesforce sandboxes, which log in through test.salesforce.com.
    static let salesforceSandbox = salesforceDefinition(
        id: "salesforce-sandbox",
        displayName: "Salesforce (sandbox)",
        loginHost: "test.salesforce.com",
        myDomainSuffix: ".sandbox.my.salesforce.com"
    )

    /// Both flavours differ only in login host and My Domain suffix.
    ///
    /// The API lives on the org's own host, which the token response names in `instance_url`; the connect flow
    /// stores its first label as `instance` (ConnectionParameter.value(fromTokenResponseField:)), so the base
    /// URL stays a template with a fixed domain. Since enhanced domains (enforced from Winter '24) every org's
    /// instance_url is on My Domain; orgs on other suffixes (e.g. `.develop.my.salesforce.com`) are refused.
    private static func salesforceDefinition(
        id: String,
        displayName: String,
        loginHost: String,
        myDomainSuffix: String
    ) -> ProviderDefinition {
        ProviderDefinition(
            id: id,
            displayName: displayName,
            authentication: .oauth2(
                OAuth2Settings(
                    authorizeURL: URLTemplate("https://\(loginHost)/services/oauth2/authorize"),
                    tokenURL: URLTemplate("https://\(loginHost)/services/oauth2/token"),
                    revocation: TokenRevocation(url: URLTemplate("https://\(loginHost)/services/oauth2/revoke"), style: .rfc7009),
                    // refresh_token must be asked for, and allowed on the connected app, to get one.
                    defaultScopes: ["api", "refresh_token"],
                    scopeSeparator: .space,
                    // Recommended with the web server flow (help.salesforce.com "OAuth 2.0 Web Server Flow").
                    pkce: .supported,
                    tokenEndpointAuthMethod: .clientSecretPost,
                    // Rotation is a per-app setting, so it cannot be known here.
                    refreshTokensRotate: nil
                )
            ),
            // v67.0 is Summer '26; Salesforce adds one version per seasonal release.
            apiBaseURL: URLTemplate("https://{instance}\(myDomainSuffix)/services/data/v67.0"),
            connectionParameters: [
                ConnectionParameter(
                    name: "instance",
                    description: "The org's My Domain name, taken from the token response's instance_url.",
                    pattern: ConnectionParameter.dnsLabelPattern,
                    source: .tokenResponse(field: "instance_url", hostSuffix: myDomainSuffix),
                    example: "acme"
                )
            ],
            // Usage is reported as one `Sforce-Limit-Info: api-usage=n/m` header, which this model cannot express.
            rateLimitHeaders: nil,
            // Outbound messages and platform events are not HMAC-signed webhooks.
            webhookSignature: .none,
            documentationURL: "https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm"
        )
    }
}
