import ArgumentParser
import Foundation
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

extension Vault {
    /// The vault of a process, from `SWITCHYARD_KEYRING_FILE` or `SWITCHYARD_KEYRING`; on a bad keyring
    /// prints one line naming the variable and exits 78, like any other configuration error.
    static func loadOrExit(_ source: KeyringSource?, policy: DataKeyPolicy = DataKeyPolicy()) throws -> Vault {
        do {
            switch source {
            case .file(let path):
                return Vault(provider: try LocalKeyProvider(path: path), policy: policy)
            case .inline(let json):
                return Vault(provider: LocalKeyProvider(keyring: try LocalKeyring(json: json)), policy: policy)
            case nil:
                throw VaultError.keyring("is required")
            }
        } catch {
            let setting = if case .inline = source { SwitchyardSettings.keyring } else { SwitchyardSettings.keyringFile }
            FileHandle.standardError.write(Data("switchyard: invalid configuration: \(setting.environmentKey): \(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}
