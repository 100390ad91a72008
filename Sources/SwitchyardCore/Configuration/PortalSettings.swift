/// The tenant portal's one-time links and browser sessions.
public struct PortalSettings: Sendable, Equatable {
    public var linkTTLSeconds = SwitchyardSettings.portalLinkTTLSeconds.defaultValue
    public var sessionTTLSeconds = SwitchyardSettings.portalSessionTTLSeconds.defaultValue

    public init() {}

    static func load(_ settings: SettingsReader) throws(ConfigurationError) -> PortalSettings {
        var portal = PortalSettings()
        portal.linkTTLSeconds = try settings.value(SwitchyardSettings.portalLinkTTLSeconds)
        portal.sessionTTLSeconds = try settings.value(SwitchyardSettings.portalSessionTTLSeconds)
        return portal
    }
}
