import NIOCore
import SwitchyardVault

extension NamedRow {
    /// A data key as wrapped by the key-encryption key: the `wrapped_key`, `kek_id` and `kek_version` columns.
    func wrappedKey(fileID: String = #fileID, line: Int = #line) throws -> WrappedDataKey {
        let ciphertext: ByteBuffer = try self("wrapped_key", fileID: fileID, line: line)
        return WrappedDataKey(
            ciphertext: Array(ciphertext.readableBytesView),
            kek: KEKVersion(keyID: try self("kek_id", fileID: fileID, line: line), version: try self("kek_version", fileID: fileID, line: line))
        )
    }
}
