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

extension SwitchyardSettings {
    public static let keyProvider = ChoiceSetting<KeyProviderKind>(
        "SWITCHYARD_KEY_PROVIDER",
        default: .local,
        "what wraps the data keys: the local keyring, or an AWS KMS key (see \"AWS KMS as the key provider\")"
    )
    public static let awsKMSKeyID = TextSetting(
        "SWITCHYARD_AWS_KMS_KEY_ID",
        unset: "required by `aws-kms`; with `local`, keys wrapped by KMS cannot be read",
        accepts: "a key id, key ARN, alias (`alias/switchyard`) or alias ARN",
        "the KMS key that wraps data keys; set with `local` too while `switchyard keys rewrap` moves keys off KMS"
    )
    public static let awsKMSRegion = TextSetting(
        "SWITCHYARD_AWS_KMS_REGION",
        unset: "`AWS_REGION`, else `AWS_DEFAULT_REGION`, else the key ARN's region",
        accepts: "an AWS region such as `eu-west-1`",
        "the region of the KMS key"
    )
    public static let awsKMSEndpoint = TextSetting(
        "SWITCHYARD_AWS_KMS_ENDPOINT",
        unset: "`https://kms.REGION.amazonaws.com`",
        accepts: "an `https://` (or, for emulators, `http://`) URL without path",
        "another KMS endpoint: a VPC or FIPS endpoint, or an emulator such as moto in development"
    )
}
