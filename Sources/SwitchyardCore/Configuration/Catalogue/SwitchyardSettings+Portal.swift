extension SwitchyardSettings {
    public static let portalLinkTTLSeconds = IntegerSetting(
        "SWITCHYARD_PORTAL_LINK_TTL_SECONDS",
        default: 300,
        in: 30...3600,
        "how long a portal link (POST /v1/portal-sessions) can be opened; it works once"
    )
    public static let portalSessionTTLSeconds = IntegerSetting(
        "SWITCHYARD_PORTAL_SESSION_TTL_SECONDS",
        default: 3600,
        in: 300...86_400,
        "how long a portal session lasts once its link is opened"
    )
}
