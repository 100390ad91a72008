import Hummingbird
import SwitchyardCore
import SwitchyardPostgres

/// Who is calling, once the `Authorization` header has been checked.
public enum Principal: Sendable {
    /// The platform operator, holding `SWITCHYARD_ADMIN_KEY`.
    case `operator`
    /// A tenant, through one of its API keys.
    case tenant(TenantCaller)
}

/// A tenant's API key that authenticated this request.
public struct TenantCaller: Sendable {
    public let tenantID: TenantID
    public let key: APIKeyRecord
}

/// The context every request starts with: its id and, after authentication, its principal.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String = ""
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}

/// The context of `/v1` tenant routes. It cannot be created without a tenant,
/// so a handler that forgets to check the caller's tenant does not compile.
public struct TenantRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let requestID: String
    public let caller: TenantCaller

    public var tenantID: TenantID { caller.tenantID }

    public init(context: AppRequestContext) throws {
        switch context.principal {
        case .tenant(let caller):
            self.caller = caller
        case .operator:
            throw SwitchyardError.forbidden("This route is for tenant API keys; the operator key cannot call it.")
        case nil:
            throw SwitchyardError.unauthorized("Send a tenant API key as `Authorization: Bearer sy_live_...`.")
        }
        self.coreContext = context.coreContext
        self.requestID = context.requestID
    }

    /// An audit event by this caller (its key's display prefix) in this request.
    func audit(_ action: String, _ resourceType: String, _ resourceID: String?, _ details: [String: String] = [:]) -> NewAuditEvent {
        NewAuditEvent(
            actor: caller.key.displayPrefix,
            action: action,
            resourceType: resourceType,
            resourceID: resourceID,
            requestID: requestID,
            details: details
        )
    }

    /// Throws 403 unless the key has `scope`.
    public func require(_ scope: APIKeyScope) throws(SwitchyardError) {
        guard caller.key.scopes.permits(scope) else {
            throw .forbidden("This API key lacks the '\(scope.rawValue)' scope.")
        }
    }
}

/// The context of the operator's `/v1/tenants` routes.
public struct OperatorRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let requestID: String

    public init(context: AppRequestContext) throws {
        switch context.principal {
        case .operator:
            break
        case .tenant:
            throw SwitchyardError.forbidden("This route is for the platform operator; tenant API keys cannot call it.")
        case nil:
            throw SwitchyardError.unauthorized("Send the operator key as `Authorization: Bearer ...`.")
        }
        self.coreContext = context.coreContext
        self.requestID = context.requestID
    }
}
