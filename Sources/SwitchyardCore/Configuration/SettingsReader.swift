import Configuration

/// Reads settings through their definitions (`SwitchyardSettings`): there is no reading by key alone.
struct SettingsReader {
    let reader: ConfigReader

    /// The setting's value, its default when unset or empty; secrets are read as secrets.
    func value<Setting: ConfigurationSetting>(_ setting: Setting) throws(ConfigurationError) -> Setting.Value {
        try setting.value(from: text(setting))
    }

    private func text(_ setting: some ConfigurationSetting) -> String? {
        guard let value = reader.string(forKey: setting.configKey, isSecret: setting.isSecret), !value.isEmpty else { return nil }
        return value
    }
}
