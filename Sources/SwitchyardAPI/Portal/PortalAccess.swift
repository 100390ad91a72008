import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres

/// Who is using the portal: one tenant, through the session its one-time link started.
struct PortalVisitor: Sendable {
    let tenantID: TenantID
    let sessionID: UUID
    /// The form token every POST must carry (see `PortalAccess.csrfToken`).
    let csrf: String

    /// This visitor as the actor of audit events.
    func auditor(requestID: String) -> DestinationActions.Audit {
        let actor = "portal:" + sessionID.lowercasedString.prefix(8)
        return { action, type, id, details in
            NewAuditEvent(actor: actor, action: action, resourceType: type, resourceID: id, requestID: requestID, details: details)
        }
    }
}

/// The portal's sessions: a cookie holding a random token (only its SHA-256 is stored), `HttpOnly`, `SameSite=Lax`
/// (sent when a person follows a link here, never on another site's form posts), `Secure` when served over TLS,
/// scoped to `/portal`. Every form carries a token derived from the cookie (synchronizer token pattern, stateless):
/// a page of another site can neither read the cookie nor compute the token.
struct PortalAccess: Sendable {
    static let cookieName = "switchyard_portal"
    let database: Database
    let settings: PortalSettings
    let secureCookies: Bool

    /// The form token of the session whose cookie is `sessionToken`.
    static func csrfToken(for sessionToken: String) -> String {
        let digest = SHA256.hash(data: Data(("csrf:" + sessionToken).utf8))
        return Data(digest).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The visitor of a request, or a 401 page when it carries no live session.
    func visitor(_ request: Request, context: AppRequestContext) async throws -> PortalVisitor {
        guard let token = Self.sessionToken(in: request.headers) else { throw PortalPageError.sessionEnded }
        let session = try await database.withOperator(logger: context.logger) {
            try await $0.portalSession(tokenHash: OpaqueToken(value: token).hash)
        }
        guard let session else { throw PortalPageError.sessionEnded }
        return PortalVisitor(tenantID: session.tenantID, sessionID: session.id, csrf: Self.csrfToken(for: token))
    }

    /// The visitor of a form post: a live session whose form token matches, compared in constant time.
    func poster(_ request: Request, form: [String: String], context: AppRequestContext) async throws -> PortalVisitor {
        let visitor = try await visitor(request, context: context)
        guard let sent = form["csrf"], ConstantTime.secretsEqual(sent, visitor.csrf) else { throw PortalPageError.forgedForm }
        return visitor
    }

    /// Starts a session from a one-time link: the `Set-Cookie` value, or `nil` when the link is unknown, used or expired.
    func open(linkToken: String, context: AppRequestContext) async throws -> String? {
        let session = OpaqueToken.generate(prefix: "ps_")
        let lifetime = Duration.seconds(settings.sessionTTLSeconds)
        let opened = try await database.withOperator(logger: context.logger) {
            try await $0.openPortalSession(linkTokenHash: OpaqueToken(value: linkToken).hash, sessionTokenHash: session.hash, lifetime: lifetime)
        }
        guard opened != nil else { return nil }
        return cookie(session.value, maxAge: settings.sessionTTLSeconds)
    }

    /// Ends the session of a request (logging out) and returns the `Set-Cookie` value that clears the cookie.
    func end(_ request: Request, context: AppRequestContext) async throws -> String {
        if let token = Self.sessionToken(in: request.headers) {
            try await database.withOperator(logger: context.logger) { try await $0.endPortalSession(tokenHash: OpaqueToken(value: token).hash) }
        }
        return cookie("", maxAge: 0)
    }

    private func cookie(_ value: String, maxAge: Int) -> String {
        "\(Self.cookieName)=\(value); Path=/portal; Max-Age=\(maxAge); HttpOnly; SameSite=Lax" + (secureCookies ? "; Secure" : "")
    }

    static func sessionToken(in headers: HTTPFields) -> String? {
        for field in headers where field.name == .cookie {
            for pair in field.value.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == cookieName else { continue }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                if !value.isEmpty { return value }
            }
        }
        return nil
    }
}

/// What a portal page answers instead of its content.
enum PortalPageError: Error {
    /// No cookie, an unknown, ended or expired session: 401 with a page that says to ask for a new link.
    case sessionEnded
    /// A POST without the session's form token: 403.
    case forgedForm
    /// Another tenant's id, or one that does not exist: 404.
    case notFound
}
