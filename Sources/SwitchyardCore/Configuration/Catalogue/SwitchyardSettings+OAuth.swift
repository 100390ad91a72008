extension SwitchyardSettings {
    public static let publicURL = TextSetting(
        "SWITCHYARD_PUBLIC_URL",
        unset: "`http(s)://HOST:PORT`",
        accepts: "an http(s) URL without user, query or fragment",
        "where end users' browsers reach this server; the OAuth redirect URI is this plus `/oauth/callback`"
    )
    public static let oauthRefreshSkewSeconds = IntegerSetting(
        "SWITCHYARD_OAUTH_REFRESH_SKEW_SECONDS",
        default: 300,
        in: 0...86_400,
        "access tokens this close to expiry are refreshed before use"
    )
    public static let connectSessionTTLSeconds = IntegerSetting(
        "SWITCHYARD_CONNECT_SESSION_TTL_SECONDS",
        default: 1800,
        in: 60...86_400,
        "how long a connect link works"
    )
}
