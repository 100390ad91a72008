import AsyncHTTPClient
import Foundation
import NIOCore
import SwitchyardCore

/// The key-encryption-key provider for an AWS KMS key: new data keys come from `GenerateDataKey`, `keys rewrap`
/// wraps existing ones with `Encrypt`, and `Decrypt` unwraps. The wrap context (the tenant id and the data key's id,
/// or a platform secret's table and row) is the KMS encryption context: KMS refuses to decrypt under any other,
/// and CloudTrail records it with every call.
///
/// The key is recorded by its ARN, resolved once at start (`connect`), with version 1: KMS rotates a key's material
/// itself and its ciphertexts name the material that made them, so one ARN never needs a second version here.
public struct AWSKMSKeyProvider: KeyEncryptionKeyProvider {
    /// The ARN of the configured key (the alias resolved).
    public let keyARN: String
    let client: AWSKMSClient

    /// Resolves the configured key (`DescribeKey`), checks that it is an enabled symmetric encryption key, and makes
    /// one `GenerateDataKey` and `Decrypt` round trip, so a process that starts can wrap and unwrap.
    /// Throws `KeyProviderUnavailable` when KMS cannot be reached and `KeyProviderRefused` when it says no.
    public static func connect(
        _ settings: AWSKMSSettings,
        httpClient: HTTPClient = .shared,
        timeout: TimeAmount = .seconds(5)
    ) async throws -> AWSKMSKeyProvider {
        let client = AWSKMSClient(settings: settings, httpClient: httpClient, timeout: timeout)
        let description = try await client.call(
            "DescribeKey",
            KMSMessages.DescribeKeyRequest(KeyId: settings.keyID),
            as: KMSMessages.DescribeKeyResponse.self
        )
        let metadata = description.KeyMetadata
        func refuse(_ problem: String) -> KeyProviderRefused {
            KeyProviderRefused(provider: AWSKMSClient.providerName, operation: "DescribeKey", code: "UnsuitableKey", message: problem)
        }
        if metadata.Enabled == false || (metadata.KeyState.map { $0 != "Enabled" } ?? false) {
            throw refuse("the key \(metadata.Arn) is not enabled (state \(metadata.KeyState ?? "unknown"))")
        }
        if let usage = metadata.KeyUsage, usage != "ENCRYPT_DECRYPT" {
            throw refuse("the key \(metadata.Arn) is for \(usage), not ENCRYPT_DECRYPT")
        }
        if let spec = metadata.KeySpec, spec != "SYMMETRIC_DEFAULT" {
            throw refuse("the key \(metadata.Arn) is \(spec), not a symmetric key (SYMMETRIC_DEFAULT)")
        }
        let provider = AWSKMSKeyProvider(keyARN: metadata.Arn, client: client)
        let check = WrapContext(["switchyard": "startup-check"])
        let (material, wrapped) = try await provider.generateDataKey(context: check)
        let unwrapped = try await provider.unwrap(wrapped, context: check)
        guard unwrapped.withBytes({ $0 }) == material.withBytes({ $0 }) else {
            throw refuse("a data key did not unwrap to itself")
        }
        return provider
    }

    public func primaryVersion() async throws -> KEKVersion { KEKVersion(keyID: keyARN, version: 1) }

    public func availableVersions() async throws -> [KEKVersion] { [KEKVersion(keyID: keyARN, version: 1)] }

    /// Any KMS key's ARN: `Decrypt` names the key of the wrapped form, and the principal's permissions decide.
    /// So keys wrapped under a key that an alias pointed to before stay readable, and `keys rewrap` moves them.
    public func canUnwrap(_ version: KEKVersion) async -> Bool { Self.isKMSKey(version) }

    /// Whether `version` names a KMS key (by its ARN) rather than a keyring's version.
    public static func isKMSKey(_ version: KEKVersion) -> Bool {
        version.keyID.hasPrefix("arn:") && version.keyID.contains(":kms:")
    }

    public func generateDataKey(context: WrapContext) async throws -> (material: KeyMaterial, wrapped: WrappedDataKey) {
        let response = try await client.call(
            "GenerateDataKey",
            KMSMessages.GenerateDataKeyRequest(KeyId: keyARN, EncryptionContext: Self.encryptionContext(context)),
            as: KMSMessages.KeyResponse.self
        )
        guard let plaintext = response.Plaintext, let material = KeyMaterial(bytes: plaintext), let blob = response.CiphertextBlob else {
            throw Self.malformed("GenerateDataKey")
        }
        return (material, WrappedDataKey(ciphertext: Array(blob), kek: KEKVersion(keyID: keyARN, version: 1)))
    }

    public func wrap(_ dataKey: KeyMaterial, context: WrapContext) async throws -> WrappedDataKey {
        let response = try await client.call(
            "Encrypt",
            KMSMessages.EncryptRequest(KeyId: keyARN, Plaintext: dataKey.withBytes { Data($0) }, EncryptionContext: Self.encryptionContext(context)),
            as: KMSMessages.KeyResponse.self
        )
        guard let blob = response.CiphertextBlob else { throw Self.malformed("Encrypt") }
        return WrappedDataKey(ciphertext: Array(blob), kek: KEKVersion(keyID: keyARN, version: 1))
    }

    public func unwrap(_ wrapped: WrappedDataKey, context: WrapContext) async throws -> KeyMaterial {
        guard await canUnwrap(wrapped.kek) else { throw VaultError.unknownKEKVersion(wrapped.kek) }
        let response = try await client.call(
            "Decrypt",
            KMSMessages.DecryptRequest(
                KeyId: wrapped.kek.keyID,
                CiphertextBlob: Data(wrapped.ciphertext),
                EncryptionContext: Self.encryptionContext(context)
            ),
            as: KMSMessages.KeyResponse.self
        )
        guard let plaintext = response.Plaintext, let material = KeyMaterial(bytes: plaintext) else { throw Self.malformed("Decrypt") }
        return material
    }

    static func encryptionContext(_ context: WrapContext) -> [String: String] {
        Dictionary(context.pairs, uniquingKeysWith: { first, _ in first })
    }

    static func malformed(_ operation: String) -> KeyProviderRefused {
        KeyProviderRefused(
            provider: AWSKMSClient.providerName,
            operation: operation,
            code: "MalformedResponse",
            message: "the answer lacks a member or holds a key that is not 256 bits"
        )
    }
}
