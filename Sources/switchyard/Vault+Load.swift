import ArgumentParser
import Foundation
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

extension Vault {
    /// The vault of a process: the provider `SWITCHYARD_KEY_PROVIDER` names wraps new data keys; the other one, when
    /// configured (a keyring beside `aws-kms`, `SWITCHYARD_AWS_KMS_KEY_ID` beside `local`), still unwraps its keys.
    ///
    /// A bad keyring prints one line naming the variable and exits 78, like any other configuration error. AWS KMS is
    /// called at once (`AWSKMSKeyProvider.connect`): unreachable, it prints why and exits 69 (EX_UNAVAILABLE); a
    /// refusal (access denied, a disabled or unsuitable key) exits 78.
    static func loadOrExit(_ configuration: SwitchyardConfiguration, policy: DataKeyPolicy = DataKeyPolicy()) async throws -> Vault {
        let source = configuration.keyring
        var local: LocalKeyProvider?
        do {
            switch source {
            case .file(let path): local = try LocalKeyProvider(path: path)
            case .inline(let json): local = LocalKeyProvider(keyring: try LocalKeyring(json: json))
            case nil: if configuration.keyProvider.kind == .local { throw VaultError.keyring("is required") }
            }
        } catch {
            let setting = if case .inline = source { SwitchyardSettings.keyring } else { SwitchyardSettings.keyringFile }
            throw failure("invalid configuration: \(setting.environmentKey): \(error)", code: 78)
        }
        var kms: AWSKMSKeyProvider?
        if let settings = configuration.keyProvider.awsKMS {
            do {
                kms = try await AWSKMSKeyProvider.connect(settings)
            } catch let error as KeyProviderUnavailable {
                throw failure(
                    "AWS KMS is unreachable at \(settings.endpoint.absoluteString) (region \(settings.region), key \(settings.keyID)): \(error.reason). Nothing was started; check the network, the endpoint and the region, then start again.",
                    code: 69
                )
            } catch {
                throw failure(
                    "invalid configuration: \(SwitchyardSettings.awsKMSKeyID.environmentKey): AWS KMS key \(settings.keyID) cannot be used: \(error)",
                    code: 78
                )
            }
        }
        var providers: [any KeyEncryptionKeyProvider] = []
        if let local { providers.append(local) }
        if let kms { providers.insert(kms, at: configuration.keyProvider.kind == .awsKMS ? 0 : providers.count) }
        guard let primary = providers.first else { throw failure("no key provider is configured", code: 78) }
        return Vault(
            provider: providers.count == 1 ? primary : KeyProviderChain(primary: primary, others: Array(providers.dropFirst())),
            policy: policy
        )
    }

    /// Prints `message` as the process's one line about it; the caller throws the exit code.
    private static func failure(_ message: String, code: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("switchyard: \(message)\n".utf8))
        return ExitCode(code)
    }
}
