import Crypto

/// Comparisons of secrets whose running time does not depend on where the inputs differ.
public enum ConstantTime {
    /// Compares two secrets by their SHA-256 digests, so neither content nor length leaks through timing.
    public static func secretsEqual(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        bytesEqual(Array(SHA256.hash(data: Array(lhs.utf8))), Array(SHA256.hash(data: Array(rhs.utf8))))
    }

    /// Compares byte strings in time that depends only on their lengths.
    public static func bytesEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }
}
