import Configuration

/// Reads settings through their definitions (`SwitchyardSettings`): there is no reading by key alone.
struct SettingsReader {
    let reader: ConfigReader

    /// The setting's value, its default when unset or empty; secrets are read as secrets.
    func value<Setting: ConfigurationSetting>(_ setting: Setting) throws(ConfigurationError) -> Setting.Value {
        try setting.value(from: text(setting))
    }

    /// A variable that other software defines too (`AWS_REGION`, `AWS_ACCESS_KEY_ID`): read by its own name, so
    /// Switchyard finds credentials where the AWS tools look for them. Nil when unset or empty.
    func standardVariable(_ name: String, secret: Bool = false) -> String? {
        let key = ConfigKey(name.lowercased().split(separator: "_").map(String.init))
        guard let value = reader.string(forKey: key, isSecret: secret), !value.isEmpty else { return nil }
        return value
    }

    private func text(_ setting: some ConfigurationSetting) -> String? {
        guard let value = reader.string(forKey: setting.configKey, isSecret: setting.isSecret), !value.isEmpty else { return nil }
        return value
    }
}
