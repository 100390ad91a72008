import Logging

extension SwitchyardSettings {
    public static let logLevel = ChoiceSetting<Logger.Level>("SWITCHYARD_LOG_LEVEL", default: .info, "the least severe level logged")
    public static let logFormat = ChoiceSetting<LoggingConfiguration.Format>(
        "SWITCHYARD_LOG_FORMAT",
        default: .text,
        "`json` for log pipelines, one object per line"
    )
}
