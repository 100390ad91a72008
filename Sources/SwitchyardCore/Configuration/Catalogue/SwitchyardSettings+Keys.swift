extension SwitchyardSettings {
    public static let adminKeyMinimumLength = 32
    public static let adminKey = TextSetting(
        "SWITCHYARD_ADMIN_KEY",
        secret: true,
        unset: "required by `serve`",
        accepts: "at least \(adminKeyMinimumLength) characters",
        "the platform operator's key for `/v1/tenants`"
    )
    public static let keyringFile = TextSetting(
        "SWITCHYARD_KEYRING_FILE",
        unset: "required by `serve` unless `SWITCHYARD_KEYRING`",
        accepts: "a file of mode 0600 (refused if others can read it); not with `SWITCHYARD_KEYRING`",
        "the local keyring (key-encryption keys), written by `switchyard keys generate --output FILE`"
    )
    public static let keyring = TextSetting(
        "SWITCHYARD_KEYRING",
        secret: true,
        unset: "`SWITCHYARD_KEYRING_FILE`",
        accepts: "a keyring file's JSON; not with `SWITCHYARD_KEYRING_FILE`",
        "the keyring's JSON itself, for platforms that inject secrets as variables"
    )
}
