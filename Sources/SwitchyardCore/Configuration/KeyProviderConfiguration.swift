import Foundation

/// Which key-encryption-key provider wraps new data keys (`SWITCHYARD_KEY_PROVIDER`).
public enum KeyProviderKind: String, CaseIterable, Sendable {
    case local
    case awsKMS = "aws-kms"
}

/// The key-encryption-key providers of a process: the primary one wraps every new data key; the other one, when
/// configured, still unwraps the keys it wrapped, so `switchyard keys rewrap` can move keys between the two online.
public struct KeyProviderConfiguration: Sendable, Equatable {
    public var kind: KeyProviderKind
    /// `SWITCHYARD_AWS_KMS_*` and the AWS credentials; set whenever `SWITCHYARD_AWS_KMS_KEY_ID` is.
    public var awsKMS: AWSKMSSettings?

    public init(kind: KeyProviderKind = .local, awsKMS: AWSKMSSettings? = nil) {
        self.kind = kind
        self.awsKMS = awsKMS
    }
}

/// Where the AWS KMS key is and how to reach it.
public struct AWSKMSSettings: Sendable, Equatable {
    /// A key id, key ARN, alias name or alias ARN, as the operator wrote it.
    public var keyID: String
    public var region: String
    /// `https://kms.REGION.amazonaws.com` unless overridden (an emulator, a VPC endpoint).
    public var endpoint: URL
    public var credentials: AWSCredentials

    public init(keyID: String, region: String, endpoint: URL? = nil, credentials: AWSCredentials) {
        self.keyID = keyID
        self.region = region
        self.endpoint = endpoint ?? URL(string: "https://kms.\(region).amazonaws.com")!
        self.credentials = credentials
    }
}

/// AWS credentials from the standard environment variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`). Never printed: `description` names the access key id only.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret redacted)" }
    public var debugDescription: String { description }
}
