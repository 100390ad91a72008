import SwitchyardCore
import Synchronization

/// An integration's credential held across the calls of one job (a sync run's pages), so that each call does not
/// read and decrypt it again. An OAuth token close to its expiry is not handed out (the caller reads it again,
/// refreshed); a 401 to a held credential is retried once with the stored one when that has changed meanwhile.
public final class CredentialLease: Sendable {
    /// Tokens expiring sooner than this are read again instead.
    static let margin: Double = 120
    private let held = Mutex<IntegrationCredential?>(nil)

    public init() {}

    var current: IntegrationCredential? {
        held.withLock { credential in
            if case .oauth2(let tokens)? = credential, tokens.expires(within: Self.margin) { return nil }
            return credential
        }
    }

    func hold(_ credential: IntegrationCredential) {
        held.withLock { $0 = credential }
    }

    /// Holds what `other` holds (calls of one batch share one read of the credential).
    public func hold(sameAs other: CredentialLease) {
        let credential = other.held.withLock { $0 }
        held.withLock { $0 = credential }
    }
}
