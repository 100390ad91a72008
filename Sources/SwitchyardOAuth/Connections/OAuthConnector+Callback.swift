import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardProviders

extension OAuthConnector {
    /// The query of a request to `/oauth/callback` (RFC 6749 §4.1.2, RFC 9207).
    public struct Callback: Sendable {
        public var state: String?
        public var code: String?
        public var error: String?
        public var errorDescription: String?
        public var issuer: String?
        /// The values of the browser-binding cookies the browser sent (one per flow it has in progress).
        public var browserCookies: [String]

        public init(state: String?, code: String?, error: String?, errorDescription: String?, issuer: String?, browserCookies: [String]) {
            self.state = state
            self.code = code
            self.error = error
            self.errorDescription = errorDescription
            self.issuer = issuer
            self.browserCookies = browserCookies
        }
    }

    /// A connection made.
    public struct Connected: Sendable {
        public let tenantID: TenantID
        public let integration: IntegrationRecord
        public let providerName: String
        public let returnTo: String?
        public let reauthorized: Bool
    }

    /// Checks the callback against its stored request, exchanges the code and saves the connection.
    ///
    /// The state is consumed (committed as used) before anything else happens, so it works once whatever follows.
    public func complete(_ callback: Callback, logger: Logger) async throws(OAuthFailure) -> Connected {
        guard let stateText = callback.state, !stateText.isEmpty else {
            throw OAuthFailure(
                .missingState,
                title: "This link is incomplete",
                detail: "The provider sent no state. Start connecting again from the app."
            )
        }
        let stateHash = OpaqueToken(value: stateText).hash
        let started: (TenantID, OAuthStateRecord)
        do {
            guard let tenant = try await database.withOperator(logger: logger, { try await $0.oauthStateTenant(stateHash: stateHash) }),
                let record = try await database.withTenant(tenant, logger: logger, { try await $0.consumeOAuthState(stateHash: stateHash) })
            else {
                throw OAuthFailure(
                    .unknownState,
                    title: "This sign-in link has already been used",
                    detail: "The request is unknown or was already completed. Start connecting again from the app."
                )
            }
            started = (tenant, record)
        } catch let failure as OAuthFailure {
            throw failure
        } catch {
            logger.error("callback state lookup failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            throw OAuthFailure(.exchangeFailed, title: "Something went wrong", detail: "The connection could not be checked. Try again in a moment.")
        }
        let (tenant, record) = started
        var logger = logger
        logger[metadataKey: "tenant_id"] = "\(tenant)"
        logger[metadataKey: "provider"] = "\(record.provider)"

        guard !record.isExpired() else {
            throw OAuthFailure(
                .expiredState,
                title: "This sign-in took too long",
                detail: "The request expired. Start connecting again from the app.",
                returnTo: record.returnTo
            )
        }
        if let binding = record.browserBinding {
            guard callback.browserCookies.contains(where: { ConstantTime.bytesEqual(OpaqueToken(value: $0).hash, binding) }) else {
                throw OAuthFailure(
                    .otherBrowser,
                    title: "Finish in the same browser",
                    detail: "This sign-in was started in another browser or its cookie was blocked. Start connecting again from this browser."
                )
            }
        }
        // RFC 9207 §2.4: the response must come from the issuer the request went to.
        if let expected = record.issuer {
            guard let issuer = callback.issuer, issuer == expected else {
                logger.warning("callback issuer mismatch")
                throw OAuthFailure(
                    .issuerMismatch,
                    title: "The response came from the wrong server",
                    detail: "The authorization response did not come from the provider the request was sent to, so it was refused.",
                    returnTo: record.returnTo
                )
            }
        }
        if let error = callback.error {
            let code = TokenEndpointError.printable(error, limit: 64) ?? "error"
            let description = TokenEndpointError.printable(callback.errorDescription)
            logger.info("provider returned an authorization error", metadata: ["error": "\(code)"])
            let said = "(The provider said: \(code)" + (description.map { ", \($0)" } ?? "") + ".)"
            throw OAuthFailure(
                .providerDenied,
                title: code == "access_denied" ? "Access was not granted" : "The provider refused the request",
                detail: (code == "access_denied"
                    ? "Access to your account was declined at the provider. " : "The provider could not complete the sign-in. ") + said,
                returnTo: record.returnTo
            )
        }
        guard let code = callback.code, !code.isEmpty else {
            throw OAuthFailure(
                .missingCode,
                title: "This link is incomplete",
                detail: "The provider sent no authorization code.",
                returnTo: record.returnTo
            )
        }
        // A connect link connects once (issue 12, item 10): the session is claimed before the code is exchanged, so a
        // second tab's callback is refused without calling the provider. A failure below gives the link back.
        if let session = record.sessionID {
            let claimed: Bool
            do {
                claimed = try await database.withTenant(tenant, logger: logger) { try await $0.completeConnectSession(session) }
            } catch {
                logger.error("claiming the connect session failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
                throw OAuthFailure(
                    .exchangeFailed,
                    title: "Something went wrong",
                    detail: "The connection could not be checked. Try again in a moment."
                )
            }
            guard claimed else {
                throw OAuthFailure(
                    .linkUsed,
                    title: "This link has already been used",
                    detail: "This connect link already connected an account (perhaps in another tab). Nothing else was connected.",
                    returnTo: record.returnTo
                )
            }
        }
        do {
            return try await connect(code: code, record: record, tenant: tenant, logger: logger)
        } catch {
            if let session = record.sessionID {
                _ = try? await database.withTenant(tenant, logger: logger) { try await $0.reopenConnectSession(session) }
            }
            throw Self.failure(error, record: record, logger: logger)
        }
    }

    /// What a failed connection tells the end user.
    private static func failure(_ error: any Error, record: OAuthStateRecord, logger: Logger) -> OAuthFailure {
        do {
            throw error
        } catch let failure as OAuthFailure {
            return failure
        } catch let error as TokenEndpointError {
            logger.warning("code exchange failed", metadata: ["error": "\(error.description)"])
            return OAuthFailure(
                .exchangeFailed,
                title: "The connection could not be completed",
                detail: "The provider's token exchange failed: \(error.description).",
                returnTo: record.returnTo
            )
        } catch let error as any SwitchyardErrorConvertible {
            return OAuthFailure(
                .configuration,
                title: "The connection could not be completed",
                detail: error.switchyardError.detail,
                returnTo: record.returnTo
            )
        } catch let error as SwitchyardError {
            return OAuthFailure(.configuration, title: "The connection could not be completed", detail: error.detail, returnTo: record.returnTo)
        } catch {
            logger.error("connect failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            return OAuthFailure(
                .exchangeFailed,
                title: "Something went wrong",
                detail: "The connection could not be saved. Try again in a moment.",
                returnTo: record.returnTo
            )
        }
    }

    private func connect(code: String, record: OAuthStateRecord, tenant: TenantID, logger: Logger) async throws -> Connected {
        let provider = try await oauthProvider(record.provider, tenant: tenant, logger: logger)
        guard let settings = provider.authentication.oauth2,
            let endpoints = try provider.oauth2Endpoints(with: record.connectionParameters, allowingHTTPHosts: providers.allowedHTTPHosts)
        else { throw SwitchyardError.internal("provider '\(provider.id)' has no OAuth settings or endpoints") }
        guard let client = try await database.oauthClientCredentials(provider: provider.id, tenant: tenant, logger: logger) else {
            throw SwitchyardError.conflict("The OAuth app for '\(provider.id)' was removed while connecting.")
        }
        let caller = TokenEndpointClient.Caller(providerLabel: providers.metricsLabel(for: provider), key: "oauth:\(tenant):\(provider.id)")
        let grant = try await tokens.exchange(
            code: code,
            redirectURI: record.redirectURI,
            codeVerifier: record.codeVerifier,
            requestedScopes: record.scopes,
            client: client,
            settings: settings,
            tokenURL: endpoints.tokenURL,
            caller: caller,
            logger: logger
        )
        var parameters = try connectionParameters(provider, record.connectionParameters, from: grant.tokens)
        try await lookUpResourceParameters(provider, &parameters, accessToken: grant.tokens.accessToken, caller: caller, logger: logger)
        try provider.validateConnectionParameters(parameters)
        let credential = IntegrationCredential.oauth2(grant.tokens)

        let integration = try await database.withTenant(tenant, logger: logger) { transaction in
            let integration: IntegrationRecord
            if let id = record.integrationID {
                guard try await transaction.integration(id) != nil else { throw SwitchyardError.notFound("The integration being re-authorized") }
                try await transaction.storeCredential(credential, for: id)
                try await transaction.scheduleRefresh(of: credential, integration: id)
                guard let updated = try await transaction.setIntegrationStatus(id, .connected, connectionParameters: parameters) else {
                    throw SwitchyardError.internal("integration \(id) disappeared while its credential was stored")
                }
                integration = updated
            } else {
                integration = try await transaction.createIntegration(
                    NewIntegration(
                        provider: provider.id,
                        displayName: provider.displayName,
                        status: .connected,
                        connectionParameters: parameters,
                        endUserID: record.endUserID,
                        tags: record.tags,
                        credential: credential
                    )
                )
                try await transaction.scheduleRefresh(of: credential, integration: integration.id)
            }
            var connected = integration
            if let account = grant.tokens.providerAccountID,
                let updated = try await transaction.updateIntegration(integration.id, IntegrationUpdate(providerAccountID: account))
            {
                connected = updated
            }
            let id = integration.id.lowercasedString
            try await transaction.recordAudit(
                NewAuditEvent(
                    actor: "end-user",
                    action: "integration.connected",
                    resourceType: "integration",
                    resourceID: id,
                    requestID: nil,
                    details: ["provider": provider.id, "reauthorized": "\(record.integrationID != nil)"]
                )
            )
            try await transaction.recordEvent(
                "integration.connected",
                integrationID: integration.id,
                data: [
                    "provider": provider.id, "reauthorized": "\(record.integrationID != nil)", "scopes": grant.tokens.scopes.joined(separator: " "),
                ]
            )
            return connected
        }
        logger.info("integration connected", metadata: ["integration_id": "\(integration.id.lowercasedString)"])
        return Connected(
            tenantID: tenant,
            integration: integration,
            providerName: provider.displayName,
            returnTo: record.returnTo,
            reauthorized: record.integrationID != nil
        )
    }

    /// Fills parameters the provider lists behind the new token (Atlassian's cloud id). One resource is taken as
    /// it is; with several, the connection needs the value preset (`connection_parameters`), since picking one
    /// for the user could connect the wrong site.
    private func lookUpResourceParameters(
        _ provider: ProviderDefinition,
        _ parameters: inout [String: String],
        accessToken: String,
        caller: TokenEndpointClient.Caller,
        logger: Logger
    ) async throws {
        for parameter in provider.connectionParameters where parameters[parameter.name] == nil {
            guard case .resourceLookup(let url, let field) = parameter.source else { continue }
            let values = try await tokens.lookUpResources(url: url, field: field, accessToken: accessToken, caller: caller, logger: logger)
            switch values.count {
            case 1:
                parameters[parameter.name] = values[0]
            case 0:
                throw SwitchyardError.validation("The account gives this app access to no \(parameter.name) at \(provider.displayName).")
            default:
                throw SwitchyardError.validation(
                    "The account can reach \(values.count) \(parameter.name) values at \(provider.displayName); the app must say which one (connection_parameters.\(parameter.name)) when it starts the connection."
                )
            }
        }
    }

    /// The request's parameters plus those the provider reveals in its token response (Salesforce's instance).
    private func connectionParameters(_ provider: ProviderDefinition, _ given: [String: String], from tokens: OAuthTokens) throws -> [String: String]
    {
        var parameters = given
        for parameter in provider.connectionParameters where parameters[parameter.name] == nil {
            guard case .tokenResponse(let field, _) = parameter.source, let value = tokens.raw[field]?.text else { continue }
            parameters[parameter.name] = try parameter.value(fromTokenResponseField: value)
        }
        return parameters
    }
}
